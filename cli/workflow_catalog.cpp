#include "cli/workflow_catalog.hpp"

#include "cli/step_plugins.hpp"

namespace artistsaid::cli {

const workflow::StepCatalog& workflow_step_catalog() {
    // The step types this binary can execute: validating against anything else would let
    // `validate` accept a workflow the run-time refuses, or the other way round.
    static const workflow::StepCatalog catalog = step_registry().catalog();
    return catalog;
}

}  // namespace artistsaid::cli
