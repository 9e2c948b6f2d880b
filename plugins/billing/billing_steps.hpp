// Registration of the billing step types (billing.generate_invoices, billing.apply_late_fees,
// billing.dunning, commissions.distribute, ...). Each step opens its own PostgreSQL
// connection through the factory it is given, runs one transaction, and closes it.
#pragma once

#include <functional>
#include <memory>
#include <pqxx/connection>

#include "engine/runtime/step_plugin.hpp"

namespace artistsaid::billing {

/// Opens a connection to the platform's database (with the configured timeouts).
using ConnectionFactory = std::function<std::unique_ptr<pqxx::connection>()>;

void register_billing_steps(runtime::StepRegistry& registry, ConnectionFactory connect);

}  // namespace artistsaid::billing
