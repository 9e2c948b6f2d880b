// InputResolver: turns what a caller passed to a run (flags, an API body, a trigger's
// payload) into the run's typed inputs.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/workflow/eval_context.hpp"
#include "engine/workflow/workflow_definition.hpp"

namespace artistsaid::workflow {

/// Checks and completes a run's inputs against the workflow's declarations.
///
/// Thread-safety: holds a reference to the definition; resolve() may run concurrently.
/// Guarantee: resolve() either returns an object with exactly the declared inputs, each in
/// its type's canonical form (value_type.hpp) or null when optional and not given, or
/// throws one InputError listing every problem.
class InputResolver {
public:
    explicit InputResolver(const WorkflowDefinition& definition) : definition_(definition) {}

    /// `given` is a JSON object; a null member counts as not given. Text is accepted for
    /// every type (as from `--input k=v`): integers, booleans, money ("12.34 USD"), and JSON
    /// text for arrays and objects. Defaults are rendered with `context` (its clock, env).
    /// Throws InputError naming unknown inputs (with did-you-mean), missing required ones
    /// and values of the wrong type.
    nlohmann::json resolve(const nlohmann::json& given, const EvalContext& context) const;

    /// {"k": "v", ...} from "k=v" strings (values stay text; resolve() converts them).
    /// Throws InputError for an entry without '=' or a repeated key.
    static nlohmann::json parse_assignments(const std::vector<std::string>& assignments);

private:
    const WorkflowDefinition& definition_;
};

}  // namespace artistsaid::workflow
