#include "cli/step_plugins.hpp"

#include "engine/runtime/builtin_steps.hpp"

namespace artistsaid::cli {

const runtime::StepRegistry& step_registry() {
    static const runtime::StepRegistry registry = [] {
        runtime::StepRegistry r;
        runtime::register_builtin_steps(r);
        return r;
    }();
    return registry;
}

}  // namespace artistsaid::cli
