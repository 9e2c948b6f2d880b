// WorkflowGraph: a workflow's steps and needs drawn as Mermaid or Graphviz DOT text.
#pragma once

#include <string>

#include "engine/workflow/workflow_definition.hpp"

namespace artistsaid::workflow {

/// Renders the step graph of a (valid) workflow: one node per step labelled with its id
/// and step type, an edge from each need to its dependent (the direction work flows),
/// for_each steps drawn double, conditional steps marked "if", and on_failure steps in a
/// dashed group of their own.
///
/// Thread-safety: holds a reference to the definition; const members are safe to call
/// concurrently. Output is deterministic (declaration order).
class WorkflowGraph {
public:
    explicit WorkflowGraph(const WorkflowDefinition& definition) : definition_(definition) {}

    /// `flowchart TD` text for Mermaid (GitHub renders it in ```mermaid blocks).
    std::string to_mermaid() const;
    /// `digraph` text for Graphviz (`dot -Tsvg`).
    std::string to_dot() const;

private:
    const WorkflowDefinition& definition_;
};

}  // namespace artistsaid::workflow
