// The step types the CLI's workflow commands know: those of the step registry
// (cli/step_plugins.cpp, the one visible place where plugins register).
#pragma once

#include "engine/workflow/step_catalog.hpp"

namespace artistsaid::cli {

/// The catalog every workflow command validates against (built once, then shared const).
const workflow::StepCatalog& workflow_step_catalog();

}  // namespace artistsaid::cli
