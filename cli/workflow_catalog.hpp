// The step types the CLI's workflow commands know: the built-ins today; each plugin adds
// its registration call in workflow_catalog.cpp, the one visible place.
#pragma once

#include "engine/workflow/step_catalog.hpp"

namespace artistsaid::cli {

/// The catalog every workflow command validates against (built once, then shared const).
const workflow::StepCatalog& workflow_step_catalog();

}  // namespace artistsaid::cli
