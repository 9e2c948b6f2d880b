// The one place where the step types a process can execute are registered (built-ins
// now; plugins and gateways add their registration calls here as they land).
#pragma once

#include "engine/core/config.hpp"
#include "engine/runtime/step_plugin.hpp"
#include "engine/store/connection_pool.hpp"

namespace artistsaid::cli {

/// Built once, then shared const.
const runtime::StepRegistry& step_registry();

/// Gives plugin steps that use the database (billing, ...) the configured URL and timeouts.
/// Called wherever a RunEngine is set up (runtime_options()); until then those steps fail
/// with "no database configured".
/// Also sizes their connection pool: at most worker.concurrency idle connections.
void configure_step_plugins(const Config& config);

/// A connection as the step plugins get one: lent by the process's pool (made with the
/// configured URL, timeouts and bound on first use), given back when the lease is destroyed.
store::ConnectionPool::Lease connect_step_database();

}  // namespace artistsaid::cli
