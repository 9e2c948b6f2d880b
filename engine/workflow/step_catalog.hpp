// StepCatalog: the step types a workflow may `uses:`, each described by a plain descriptor
// of its inputs and outputs, so validation can check `with:` and `steps.<id>.outputs.<x>`
// without running anything.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "engine/workflow/value_type.hpp"

namespace artistsaid::workflow {

/// One input or output field of a step type.
struct FieldDescriptor {
    std::string name;
    ValueType type = ValueType::kAny;
    bool required = false;  // inputs only: `with:` must set it
    std::string description;
    std::vector<std::string> choices;  // if not empty, a literal value must be one of these
};

/// What a step type is: its name as written after `uses:`, a one-line summary, the fields
/// `with:` may set, and the outputs a later step may read as `steps.<id>.outputs.<name>`.
/// An output of type object may have any members (workflow.run's `outputs`).
struct StepTypeDescriptor {
    std::string name;
    std::string summary;
    std::vector<FieldDescriptor> inputs;
    std::vector<FieldDescriptor> outputs;

    const FieldDescriptor* input(std::string_view field) const noexcept;
    const FieldDescriptor* output(std::string_view field) const noexcept;
};

/// The registry of step types.
///
/// What for: the validator consults it for every `uses:`; the CLI fills it in one visible
/// place (register_builtin_step_types(), and each plugin's own registration function as
/// plugins arrive) — no static-initialisation tricks.
///
/// Thread-safety: fill it first, then share it const; const members are safe to call
/// concurrently.
///
/// Guarantee: names are unique and well-formed (lower-case words separated by dots or
/// underscores, e.g. "payments.charge"); add() refuses anything else.
class StepCatalog {
public:
    /// Adds a step type. Throws InputError if the name is malformed or already taken, or a
    /// field name repeats.
    void add(StepTypeDescriptor descriptor);

    /// The descriptor of `name`, or nullptr.
    const StepTypeDescriptor* find(std::string_view name) const noexcept;

    /// Every name, sorted.
    std::vector<std::string> names() const;

    std::size_t size() const noexcept { return types_.size(); }

    /// A catalog holding the built-in step types (builtin_step_types.hpp).
    static StepCatalog with_builtins();

private:
    std::map<std::string, StepTypeDescriptor, std::less<>> types_;
};

/// The outputs of a step with `for_each`, as later steps see them: the run-time aggregates
/// the items' executions into {count, succeeded_count, failed_count, skipped_count, results}.
const std::vector<FieldDescriptor>& for_each_outputs();

}  // namespace artistsaid::workflow
