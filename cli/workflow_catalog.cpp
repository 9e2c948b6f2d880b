#include "cli/workflow_catalog.hpp"

#include "engine/workflow/builtin_step_types.hpp"

namespace artistsaid::cli {

const workflow::StepCatalog& workflow_step_catalog() {
    static const workflow::StepCatalog catalog = [] {
        workflow::StepCatalog c;
        workflow::register_builtin_step_types(c);
        return c;
    }();
    return catalog;
}

}  // namespace artistsaid::cli
