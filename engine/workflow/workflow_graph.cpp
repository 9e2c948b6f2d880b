#include "engine/workflow/workflow_graph.hpp"

namespace artistsaid::workflow {
namespace {

std::string mermaid_text(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c == '"') {
            out += "#quot;";
        } else if (c == '<') {
            out += "#lt;";
        } else if (c == '>') {
            out += "#gt;";
        } else {
            out += c;
        }
    }
    return out;
}

std::string dot_text(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

std::string label_of(const StepDefinition& s) {
    std::string label = s.uses;
    if (s.for_each) label += ", for_each";
    if (s.condition) label += ", if";
    return label;
}

}  // namespace

std::string WorkflowGraph::to_mermaid() const {
    std::string out = "flowchart TD\n";
    // Node ids get a prefix: Mermaid reserves words such as `end`.
    auto node = [&](const StepDefinition& s, const std::string& prefix, const std::string& indent) {
        std::string text = "\"" + mermaid_text(s.id) + "<br/>" + mermaid_text(label_of(s)) + "\"";
        out += indent + prefix + s.id + (s.for_each ? "[[" + text + "]]" : "[" + text + "]") + "\n";
    };
    auto edges = [&](const std::vector<StepDefinition>& steps, const std::string& prefix) {
        for (const auto& s : steps)
            for (const auto& need : s.needs)
                out += "    " + prefix + need + " --> " + prefix + s.id + "\n";
    };
    for (const auto& s : definition_.steps) node(s, "s_", "    ");
    edges(definition_.steps, "s_");
    if (!definition_.on_failure.empty()) {
        out += "    subgraph on_failure\n";
        for (const auto& s : definition_.on_failure) node(s, "f_", "        ");
        out += "    end\n";
        edges(definition_.on_failure, "f_");
        out += "    style on_failure stroke-dasharray: 5 5\n";
    }
    return out;
}

std::string WorkflowGraph::to_dot() const {
    std::string out = "digraph \"" + dot_text(definition_.name) + "\" {\n";
    out += "    rankdir=TB;\n    node [shape=box, fontname=\"Helvetica\"];\n";
    auto node = [&](const StepDefinition& s, const std::string& prefix, const std::string& indent) {
        out += indent + "\"" + prefix + dot_text(s.id) + "\" [label=\"" + dot_text(s.id) + "\\n" +
               dot_text(label_of(s)) + "\"" + (s.for_each ? ", peripheries=2" : "") + "];\n";
    };
    auto edges = [&](const std::vector<StepDefinition>& steps, const std::string& prefix) {
        for (const auto& s : steps)
            for (const auto& need : s.needs)
                out += "    \"" + prefix + dot_text(need) + "\" -> \"" + prefix + dot_text(s.id) +
                       "\";\n";
    };
    for (const auto& s : definition_.steps) node(s, "", "    ");
    edges(definition_.steps, "");
    if (!definition_.on_failure.empty()) {
        out +=
            "    subgraph cluster_on_failure {\n        label=\"on_failure\";\n        "
            "style=dashed;\n";
        for (const auto& s : definition_.on_failure) node(s, "on_failure.", "        ");
        out += "    }\n";
        edges(definition_.on_failure, "on_failure.");
    }
    out += "}\n";
    return out;
}

}  // namespace artistsaid::workflow
