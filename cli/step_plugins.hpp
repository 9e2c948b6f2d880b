// The one place where the step types a process can execute are registered (built-ins
// now; plugins and gateways add their registration calls here as they land).
#pragma once

#include "engine/runtime/step_plugin.hpp"

namespace artistsaid::cli {

/// Built once, then shared const.
const runtime::StepRegistry& step_registry();

}  // namespace artistsaid::cli
