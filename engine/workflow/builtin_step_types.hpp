// The step types the engine itself provides. Plugins register theirs the same way.
#pragma once

#include "engine/workflow/step_catalog.hpp"

namespace artistsaid::workflow {

/// Registers workflow.run, wait.event, wait.until, log and fail.
void register_builtin_step_types(StepCatalog& catalog);

}  // namespace artistsaid::workflow
