// The step types the run-time itself implements: log, fail and wait.until. Their
// descriptors are the built-in ones of engine/workflow (builtin_step_types.cpp).
#pragma once

#include "engine/runtime/step_plugin.hpp"

namespace artistsaid::runtime {

void register_builtin_steps(StepRegistry& registry);

}  // namespace artistsaid::runtime
