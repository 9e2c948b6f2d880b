#include "engine/workflow/workflow_directory.hpp"

#include <algorithm>
#include <map>

#include "engine/workflow/detail/suggest.hpp"

namespace artistsaid::workflow {
namespace {

std::string join(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

// Checks the `workflow.run` steps of `def` against the other workflows.
void check_children(const WorkflowDefinition& def,
                    const std::map<std::string, const WorkflowDefinition*>& by_name,
                    Diagnostics& d) {
    std::vector<std::string> names;
    for (const auto& [name, w] : by_name) names.push_back(name);
    auto check = [&](const std::string& uses, const ValueTemplate& with,
                     const SourceLocation& fallback) {
        if (uses != "workflow.run" || !with.raw().is_object()) return;
        const auto& raw = with.raw();
        auto target = raw.find("workflow");
        if (target == raw.end() || !target->is_string() ||
            Template::contains_expression(target->get<std::string>()))
            return;
        const std::string child_name = target->get<std::string>();
        const auto* origin = with.origin("/workflow");
        auto it = by_name.find(child_name);
        if (it == by_name.end()) {
            d.error(origin != nullptr ? origin->value : fallback,
                    "unknown workflow '" + child_name + "'",
                    names.empty() ? "the name of a workflow in this directory"
                                  : "one of " + join(names),
                    detail::did_you_mean(child_name, names));
            return;
        }
        const WorkflowDefinition& child = *it->second;
        auto inputs = raw.find("inputs");
        if (inputs != raw.end() && !inputs->is_object()) return;
        std::vector<std::string> declared;
        for (const auto& i : child.inputs) declared.push_back(i.name);
        if (inputs != raw.end()) {
            for (auto in = inputs->begin(); in != inputs->end(); ++in) {
                if (child.find_input(in.key()) != nullptr) continue;
                const auto* at = with.origin(pointer_append("/inputs", in.key()));
                d.error(at != nullptr && at->key ? *at->key : fallback,
                        "workflow '" + child_name + "' has no input '" + in.key() + "'",
                        declared.empty() ? "no inputs" : "one of " + join(declared),
                        detail::did_you_mean(in.key(), declared));
            }
        }
        const auto* inputs_at = with.origin("/inputs");
        for (const auto& i : child.inputs)
            if (i.required && (inputs == raw.end() || !inputs->contains(i.name)))
                d.error(inputs_at != nullptr && inputs_at->key ? *inputs_at->key
                        : origin != nullptr                    ? origin->value
                                                               : fallback,
                        "workflow '" + child_name + "' requires the input '" + i.name + "'",
                        i.name + ": " + expected_form(i.type));
    };
    for (const auto* list : {&def.steps, &def.on_failure})
        for (const auto& s : *list) {
            check(s.uses, s.with, s.where.uses);
            if (s.compensate) check(s.compensate->uses, s.compensate->with, s.compensate->where);
        }
}

}  // namespace

std::vector<std::filesystem::path> workflow_files(const std::filesystem::path& dir) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec))
        throw InputError("workflows directory '" + dir.string() +
                         "' does not exist or is not a directory");
    std::vector<std::filesystem::path> files;
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const auto& path = it->path();
        auto ext = path.extension().string();
        if ((ext == ".yaml" || ext == ".yml") && it->is_regular_file(ec)) files.push_back(path);
    }
    if (ec)
        throw InputError("cannot read workflows directory '" + dir.string() + "': " + ec.message());
    std::sort(files.begin(), files.end());
    return files;
}

WorkflowDirectory WorkflowDirectory::load(const std::filesystem::path& dir,
                                          const Validator& validator) {
    return load_files(workflow_files(dir), validator);
}

WorkflowDirectory WorkflowDirectory::load_files(const std::vector<std::filesystem::path>& files,
                                                const Validator& validator) {
    std::vector<ValidationResult> results;
    for (const auto& file : files) results.push_back(validator.validate_file(file));

    std::map<std::string, const WorkflowDefinition*> by_name;
    for (auto& r : results) {
        if (!r.definition || r.definition->name.empty()) continue;
        auto [it, inserted] = by_name.emplace(r.definition->name, &*r.definition);
        if (!inserted)
            r.diagnostics.error(
                r.definition->name_where,
                "workflow '" + r.definition->name + "' is also defined in " + it->second->file,
                "a name used by one file only");
    }
    for (auto& r : results)
        if (r.definition) check_children(*r.definition, by_name, r.diagnostics);

    WorkflowDirectory out;
    out.file_count_ = files.size();
    for (auto& r : results) {
        if (r.ok()) {
            out.workflows_.push_back(std::move(*r.definition));
        } else {
            out.invalid_.push_back(std::move(r.diagnostics));
        }
    }
    std::sort(out.workflows_.begin(), out.workflows_.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    return out;
}

const WorkflowDefinition* WorkflowDirectory::find(std::string_view name) const noexcept {
    for (const auto& w : workflows_)
        if (w.name == name) return &w;
    return nullptr;
}

std::vector<std::string> WorkflowDirectory::names() const {
    std::vector<std::string> out;
    for (const auto& w : workflows_) out.push_back(w.name);
    return out;
}

}  // namespace artistsaid::workflow
