// ExpressionScope: what an expression may refer to at one place in a workflow, for static
// checking (Expression::check). Built by the validator; the run-time does not need it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "engine/workflow/step_catalog.hpp"
#include "engine/workflow/value_type.hpp"

namespace artistsaid::workflow {

struct ExpressionScope {
    /// How a step appears to an expression.
    struct StepView {
        /// The expression may read it: the step is upstream (reachable through `needs`), or
        /// it is the step itself inside its own `compensate`, or a main step seen from an
        /// on_failure step.
        bool visible = false;
        /// The step type it uses (for messages).
        std::string uses;
        /// Its readable outputs; nullptr if unknown (an unknown `uses`), then any name goes.
        const std::vector<FieldDescriptor>* outputs = nullptr;
    };

    /// Words naming the place, for messages: "the 'if' of step 'charge'".
    std::string place;
    /// The workflow's declared inputs; nullptr: `inputs` is not available here.
    const std::map<std::string, ValueType>* inputs = nullptr;
    /// Every step id of the workflow, visible or not (so "not upstream" differs from
    /// "unknown"); nullptr: `steps` is not available here.
    const std::map<std::string, StepView>* steps = nullptr;
    bool item = false;  // inside a for_each step's `with` / `compensate`
    bool env = true;
    bool secrets = true;
    bool run = true;
    bool failure = false;  // run.failed_step and run.error (on_failure steps)
};

}  // namespace artistsaid::workflow
