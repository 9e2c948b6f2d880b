#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/commands/registry.hpp"
#include "cli/table.hpp"
#include "cli/workflow_catalog.hpp"
#include "engine/core/duration.hpp"
#include "engine/core/error.hpp"
#include "engine/core/suggest.hpp"
#include "engine/workflow/validator.hpp"
#include "engine/workflow/workflow_directory.hpp"
#include "engine/workflow/workflow_graph.hpp"

namespace artistsaid::cli {
namespace {

using workflow::StepDefinition;
using workflow::WorkflowDefinition;
using workflow::WorkflowDirectory;

WorkflowDirectory load_directory(const Context& ctx) {
    workflow::Validator validator(workflow_step_catalog());
    return WorkflowDirectory::load(ctx.config.get("workflows_dir"), validator);
}

// One line per invalid file on stderr, so a listing still shows what is valid.
void warn_invalid(const Context& ctx, const WorkflowDirectory& dir) {
    for (const auto& d : dir.invalid())
        ctx.err << "artistsaid: warning: " << d.file() << " has " << d.size() << " error"
                << (d.size() == 1 ? "" : "s") << "; run 'artistsaid validate " << d.file() << "'\n";
}

std::string triggers_text(const WorkflowDefinition& w) {
    std::vector<std::string> parts;
    for (const auto& s : w.on.schedules) parts.push_back("schedule " + s.cron + " " + s.timezone);
    for (const auto& h : w.on.webhooks) {
        std::string text = "webhook " + h.provider;
        for (std::size_t i = 0; i < h.events.size(); ++i)
            text += (i == 0 ? ": " : ",") + h.events[i];
        parts.push_back(text);
    }
    for (const auto& e : w.on.events) parts.push_back("event " + e.event);
    if (w.on.command) parts.push_back("command");
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
    return out.empty() ? "-" : out;
}

const WorkflowDefinition& find_workflow(const Context& ctx, const WorkflowDirectory& dir) {
    const std::string& name = ctx.args.at(0);
    if (const auto* w = dir.find(name)) return *w;
    std::string message = "no workflow named '" + name + "' in " + ctx.config.get("workflows_dir");
    if (auto m = closest_match(name, dir.names())) message += " (did you mean '" + *m + "'?)";
    if (!dir.invalid().empty())
        message += "; " + std::to_string(dir.invalid().size()) +
                   " invalid file(s) there were skipped: run 'artistsaid validate " +
                   ctx.config.get("workflows_dir") + "'";
    throw InputError(message, ErrorCode::kNotFound);
}

int list(Context& ctx) {
    auto dir = load_directory(ctx);
    warn_invalid(ctx, dir);
    if (ctx.json) {
        nlohmann::json workflows = nlohmann::json::array();
        for (const auto& w : dir.workflows()) {
            auto full = w.to_json();
            workflows.push_back({{"name", w.name},
                                 {"version", w.version},
                                 {"description", w.description},
                                 {"file", w.file},
                                 {"triggers", full["on"]},
                                 {"steps", w.steps.size()}});
        }
        nlohmann::json invalid = nlohmann::json::array();
        for (const auto& d : dir.invalid())
            invalid.push_back({{"file", d.file()}, {"errors", d.size()}});
        ctx.out << nlohmann::json{{"directory", ctx.config.get("workflows_dir")},
                                  {"workflows", workflows},
                                  {"invalid", invalid}}
                       .dump(2)
                << '\n';
        return 0;
    }
    if (dir.workflows().empty()) {
        ctx.out << "no workflows in " << ctx.config.get("workflows_dir") << '\n';
        return 0;
    }
    Table table({"NAME", "VERSION", "STEPS", "TRIGGERS"});
    for (const auto& w : dir.workflows())
        table.add_row(
            {w.name, std::to_string(w.version), std::to_string(w.steps.size()), triggers_text(w)});
    table.print(ctx.out);
    return 0;
}

std::string options_text(const StepDefinition& s) {
    std::vector<std::string> parts;
    if (s.condition) parts.push_back("if");
    if (s.for_each)
        parts.push_back(s.max_parallel ? "for_each (max " + std::to_string(*s.max_parallel) + ")"
                                       : "for_each");
    if (s.retry)
        parts.push_back("retry " + std::to_string(s.retry->attempts) + "x " +
                        std::string(to_string(s.retry->backoff)));
    if (s.timeout) parts.push_back("timeout " + format_duration(*s.timeout));
    if (s.on_error == workflow::OnError::kContinue) parts.push_back("on_error continue");
    if (s.compensate) parts.push_back("compensate " + s.compensate->uses);
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
    return out;
}

void print_steps(std::ostream& out, const std::vector<StepDefinition>& steps) {
    Table table({"  ID", "USES", "NEEDS", "OPTIONS"});
    for (const auto& s : steps) {
        std::string needs;
        for (const auto& n : s.needs) needs += (needs.empty() ? "" : ", ") + n;
        std::string options = options_text(s);
        table.add_row(
            {"  " + s.id, s.uses, needs.empty() ? "-" : needs, options.empty() ? "-" : options});
    }
    table.print(out);
}

int show(Context& ctx) {
    auto dir = load_directory(ctx);
    const WorkflowDefinition& w = find_workflow(ctx, dir);
    if (ctx.json) {
        ctx.out << w.to_json().dump(2) << '\n';
        return 0;
    }
    auto& out = ctx.out;
    out << "name:        " << w.name << " (version " << w.version << ")\n";
    out << "file:        " << w.file << '\n';
    if (!w.description.empty()) out << "description: " << w.description << '\n';
    out << "triggers:    " << triggers_text(w) << '\n';
    if (w.concurrency)
        out << "concurrency: key " << w.concurrency->key.text() << ", limit "
            << w.concurrency->limit << '\n';
    if (!w.inputs.empty()) {
        out << "inputs:\n";
        Table table({"  NAME", "TYPE", "REQUIRED", "DEFAULT"});
        for (const auto& i : w.inputs) {
            std::string value =
                i.default_value ? workflow::value_text(i.default_value->raw()) : "-";
            if (value.size() > 48) value = value.substr(0, 45) + "...";
            table.add_row(
                {"  " + i.name, std::string(to_string(i.type)), i.required ? "yes" : "no", value});
        }
        table.print(out);
    }
    out << "steps:\n";
    print_steps(out, w.steps);
    if (!w.on_failure.empty()) {
        out << "on_failure:\n";
        print_steps(out, w.on_failure);
    }
    return 0;
}

int graph(Context& ctx) {
    std::string format =
        ctx.options.count("format") ? ctx.options["format"].as<std::string>() : "mermaid";
    if (format != "mermaid" && format != "dot")
        throw InputError("unknown graph format '" + format + "': expected mermaid or dot",
                         ErrorCode::kUsage);
    auto dir = load_directory(ctx);
    workflow::WorkflowGraph graph(find_workflow(ctx, dir));
    ctx.out << (format == "dot" ? graph.to_dot() : graph.to_mermaid());
    return 0;
}

}  // namespace

Command workflows_commands() {
    Command group;
    group.name = "workflows";
    group.summary = "List and inspect the workflow definitions in workflows_dir.";

    Command list_cmd;
    list_cmd.name = "list";
    list_cmd.summary =
        "List the valid workflows: name, version, step count and triggers (invalid files are "
        "reported on stderr).";
    list_cmd.run = list;

    Command show_cmd;
    show_cmd.name = "show";
    show_cmd.summary = "Show a workflow: triggers, inputs, and its steps with uses and needs.";
    show_cmd.args_usage = "NAME";
    show_cmd.min_args = show_cmd.max_args = 1;
    show_cmd.run = show;

    Command graph_cmd;
    graph_cmd.name = "graph";
    graph_cmd.summary = "Print a workflow's step graph as Mermaid (default) or Graphviz DOT.";
    graph_cmd.args_usage = "NAME";
    graph_cmd.min_args = graph_cmd.max_args = 1;
    graph_cmd.add_options = [](po::options_description& d) {
        d.add_options()("format", po::value<std::string>()->value_name("mermaid|dot"),
                        "output format (default mermaid)");
    };
    graph_cmd.run = graph;

    group.children = {list_cmd, show_cmd, graph_cmd};
    return group;
}

}  // namespace artistsaid::cli
