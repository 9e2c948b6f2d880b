// The one place where the step types a process can execute are registered (built-ins
// now; plugins and gateways add their registration calls here as they land).
#pragma once

#include "engine/core/config.hpp"
#include "engine/runtime/step_plugin.hpp"

namespace artistsaid::cli {

/// Built once, then shared const.
const runtime::StepRegistry& step_registry();

/// Gives plugin steps that use the database (billing, ...) the configured URL and timeouts.
/// Called wherever a RunEngine is set up (runtime_options()); until then those steps fail
/// with "no database configured".
void configure_step_plugins(const Config& config);

}  // namespace artistsaid::cli
