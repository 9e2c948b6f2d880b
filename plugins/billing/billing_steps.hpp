// Registration of the billing step types (billing.generate_invoices, billing.apply_late_fees,
// billing.dunning, commissions.distribute, ...). Each step gets a PostgreSQL connection
// through the factory it is given, runs one transaction, and gives it back (in the worker
// the factory lends pooled connections: see cli/step_plugins.cpp).
#pragma once

#include <functional>
#include <memory>
#include <pqxx/connection>

#include "engine/runtime/step_plugin.hpp"
#include "engine/store/connection_pool.hpp"

namespace artistsaid::billing {

/// A connection to the platform's database (with the configured timeouts), given back when
/// the returned lease is destroyed: to the pool it came from, or closed. A factory may also
/// return a plain std::unique_ptr<pqxx::connection> (store::connect()), which is closed.
using ConnectionFactory = std::function<store::ConnectionPool::Lease()>;

void register_billing_steps(runtime::StepRegistry& registry, ConnectionFactory connect);

}  // namespace artistsaid::billing
