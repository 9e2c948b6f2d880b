// The step types the run-time itself implements: log, fail, wait.until, wait.event,
// workflow.run (descriptors: the built-ins of engine/workflow, builtin_step_types.cpp) and
// collection.range (its descriptor is here: it is a run-time notion).
#pragma once

#include "engine/runtime/step_plugin.hpp"

namespace artistsaid::runtime {

void register_builtin_steps(StepRegistry& registry);

}  // namespace artistsaid::runtime
