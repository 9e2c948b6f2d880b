// `artistsaid plugins list [--json]`: every registered step type (built-ins and plugins)
// with its inputs and outputs, read from the StepRegistry that validation and the worker use.
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/commands/registry.hpp"
#include "cli/step_plugins.hpp"
#include "cli/table.hpp"
#include "engine/workflow/value_type.hpp"

namespace artistsaid::cli {
namespace {

nlohmann::json fields_json(const std::vector<workflow::FieldDescriptor>& fields, bool inputs) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& f : fields) {
        nlohmann::json j{{"name", f.name}, {"type", std::string(workflow::to_string(f.type))},
                         {"description", f.description}};
        if (inputs) j["required"] = f.required;
        if (!f.choices.empty()) j["choices"] = f.choices;
        out.push_back(j);
    }
    return out;
}

std::string fields_text(const std::vector<workflow::FieldDescriptor>& fields, bool inputs) {
    std::string out;
    for (const auto& f : fields) {
        if (!out.empty()) out += ", ";
        out += f.name + (inputs && f.required ? "*" : "") + ":" + std::string(workflow::to_string(f.type));
    }
    return out.empty() ? "-" : out;
}

int list(Context& ctx) {
    const auto catalog = step_registry().catalog();
    if (ctx.json) {
        nlohmann::json steps = nlohmann::json::array();
        for (const auto& name : catalog.names()) {
            const auto* d = catalog.find(name);
            steps.push_back({{"name", d->name},
                             {"summary", d->summary},
                             {"inputs", fields_json(d->inputs, true)},
                             {"outputs", fields_json(d->outputs, false)}});
        }
        ctx.out << nlohmann::json{{"step_types", steps}}.dump(2) << "\n";
        return 0;
    }
    Table table({"STEP TYPE", "INPUTS (* required)", "OUTPUTS", "SUMMARY"});
    for (const auto& name : catalog.names()) {
        const auto* d = catalog.find(name);
        table.add_row({d->name, fields_text(d->inputs, true), fields_text(d->outputs, false), d->summary});
    }
    table.print(ctx.out);
    return 0;
}

}  // namespace

Command plugins_commands() {
    Command group;
    group.name = "plugins";
    group.summary = "The step types workflows can use (built-ins and plugins).";
    Command list_cmd;
    list_cmd.name = "list";
    list_cmd.summary = "List every registered step type with its inputs and outputs (--json for all details).";
    list_cmd.run = list;
    group.children = {list_cmd};
    return group;
}

}  // namespace artistsaid::cli
