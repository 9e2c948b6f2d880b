// Validator: everything `artistsaid validate` checks, as a library call the run-time also
// uses when it loads a workflow.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "engine/workflow/diagnostics.hpp"
#include "engine/workflow/expression_limits.hpp"
#include "engine/workflow/step_catalog.hpp"
#include "engine/workflow/workflow_definition.hpp"

namespace artistsaid::workflow {

/// The outcome of validating one file.
struct ValidationResult {
    std::optional<WorkflowDefinition> definition;  // present if the YAML could be read
    Diagnostics diagnostics;                       // every problem, in one pass

    bool ok() const noexcept { return definition.has_value() && diagnostics.empty(); }
};

/// Checks a workflow file completely and reports every problem at once, each with
/// file:line:column: the structure (WorkflowParser), then
///   - `uses` against the StepCatalog (did-you-mean), `with:` against the step type's
///     declared inputs (unknown keys, missing required keys, literal types and choices,
///     the static type of expressions), and the same for `compensate`;
///   - `needs`: unknown ids (did-you-mean), duplicates, self-needs, cycles (with the path);
///     duplicate step ids;
///   - every expression: names (inputs, steps.<id>.outputs.<name> of upstream steps only,
///     item/index only in for_each steps, run.error only in on_failure steps), functions
///     and types; `if` must give a boolean and `for_each` a list;
///   - input defaults against their types; concurrency keys.
///
/// Thread-safety: holds a reference to the catalog; const members may run concurrently.
class Validator {
public:
    /// The catalog is kept by reference: it must outlive the validator (a temporary would
    /// dangle, hence the deleted overload).
    Validator(StepCatalog&& catalog, ExpressionLimits limits = {}) = delete;
    explicit Validator(const StepCatalog& catalog, ExpressionLimits limits = {})
        : catalog_(catalog), limits_(limits) {}

    /// Validates `text`, the contents of `file`.
    ValidationResult validate(std::string text, std::string file) const;

    /// Reads and validates a file. Throws InputError if it cannot be read.
    ValidationResult validate_file(const std::filesystem::path& path) const;

    /// Reads, validates and returns a workflow for use; throws InvalidWorkflowError (with
    /// every diagnostic) if it has any problem, InputError if it cannot be read.
    WorkflowDefinition load_file(const std::filesystem::path& path) const;

    /// The semantic checks alone, on a definition from WorkflowParser (appends to
    /// `diagnostics`).
    void check(const WorkflowDefinition& definition, Diagnostics& diagnostics) const;

    const StepCatalog& catalog() const noexcept { return catalog_; }

private:
    const StepCatalog& catalog_;
    ExpressionLimits limits_;
};

}  // namespace artistsaid::workflow
