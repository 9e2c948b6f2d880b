#include "engine/workflow/step_catalog.hpp"

#include <set>

#include "engine/core/error.hpp"
#include "engine/workflow/builtin_step_types.hpp"

namespace artistsaid::workflow {
namespace {

bool is_word_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }

// "payments.charge", "log", "wait.until": words of [a-z0-9_] starting with a letter,
// separated by single dots.
bool valid_type_name(std::string_view name) {
    if (name.empty() || name.size() > 100) return false;
    bool word_start = true;
    for (char c : name) {
        if (c == '.') {
            if (word_start) return false;
            word_start = true;
            continue;
        }
        if (word_start && !(c >= 'a' && c <= 'z')) return false;
        if (!is_word_char(c)) return false;
        word_start = false;
    }
    return !word_start;
}

void check_fields(const std::string& type, const std::vector<FieldDescriptor>& fields,
                  const char* what) {
    std::set<std::string> seen;
    for (const auto& f : fields) {
        if (f.name.empty() || !seen.insert(f.name).second)
            throw InputError("step type '" + type + "' declares the " + what + " '" + f.name +
                             "' twice (or an empty name)");
    }
}

}  // namespace

const FieldDescriptor* StepTypeDescriptor::input(std::string_view field) const noexcept {
    for (const auto& f : inputs)
        if (f.name == field) return &f;
    return nullptr;
}

const FieldDescriptor* StepTypeDescriptor::output(std::string_view field) const noexcept {
    for (const auto& f : outputs)
        if (f.name == field) return &f;
    return nullptr;
}

void StepCatalog::add(StepTypeDescriptor descriptor) {
    if (!valid_type_name(descriptor.name))
        throw InputError("invalid step type name '" + descriptor.name +
                         "': expected lower-case words separated by dots, e.g. payments.charge");
    if (types_.count(descriptor.name) != 0)
        throw InputError("step type '" + descriptor.name + "' is registered twice");
    check_fields(descriptor.name, descriptor.inputs, "input");
    check_fields(descriptor.name, descriptor.outputs, "output");
    std::string name = descriptor.name;
    types_.emplace(std::move(name), std::move(descriptor));
}

const StepTypeDescriptor* StepCatalog::find(std::string_view name) const noexcept {
    auto it = types_.find(name);
    return it == types_.end() ? nullptr : &it->second;
}

std::vector<std::string> StepCatalog::names() const {
    std::vector<std::string> out;
    out.reserve(types_.size());
    for (const auto& [name, descriptor] : types_) out.push_back(name);
    return out;
}

StepCatalog StepCatalog::with_builtins() {
    StepCatalog catalog;
    register_builtin_step_types(catalog);
    return catalog;
}

const std::vector<FieldDescriptor>& for_each_outputs() {
    static const std::vector<FieldDescriptor> outputs = {
        {"count", ValueType::kInteger, false, "number of items", {}},
        {"succeeded_count", ValueType::kInteger, false, "items whose step succeeded", {}},
        {"failed_count",
         ValueType::kInteger,
         false,
         "items whose step failed (with on_error: continue the step still finishes)",
         {}},
        {"skipped_count", ValueType::kInteger, false, "items not run because the run stopped", {}},
        {"results",
         ValueType::kArray,
         false,
         "each item's outputs in item order; a large fan-out may hold a collection handle "
         "instead of an inline array",
         {}},
    };
    return outputs;
}

}  // namespace artistsaid::workflow
