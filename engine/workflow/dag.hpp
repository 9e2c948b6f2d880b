// Dag: the `needs` graph of a workflow's steps, and the planning questions the run-time asks
// of it — in which order, which steps may start now, which can never start.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/workflow/step_status.hpp"
#include "engine/workflow/workflow_definition.hpp"

namespace artistsaid::workflow {

/// The dependency graph of a list of steps: node i is steps[i]; an edge i → j means step i
/// needs step j.
///
/// What for: the run-time calls ready() after each committed step to find the steps to
/// enqueue next; independent branches are ready together and run in parallel.
///
/// Thread-safety: immutable after build(); every member is const.
///
/// Guarantee: a built Dag is acyclic and every need names a node; build() refuses
/// anything else with an InputError naming the unknown id or the cycle (a → b → c → a).
class Dag {
public:
    using NodeList = std::vector<std::pair<std::string, std::vector<std::string>>>;

    struct Node {
        std::string id;
        std::vector<std::size_t> needs;       // direct needs, in declaration order
        std::vector<std::size_t> dependents;  // direct dependents, ascending
    };

    /// The graph of `steps` (ids and needs). Throws InputError for a repeated id, an unknown
    /// need, a step needing itself, or a cycle.
    static Dag build(const std::vector<StepDefinition>& steps);
    static Dag build(const NodeList& nodes);

    /// Every cycle a depth-first search meets, each as a path of ids whose first id is
    /// repeated at its end: {"a", "b", "c", "a"} means a needs b, b needs c, c needs a.
    /// Needs of unknown ids are ignored. Empty if the graph is acyclic. Iterative: a
    /// chain of any length does not deepen the call stack.
    static std::vector<std::vector<std::string>> find_cycles(const NodeList& nodes);

    /// "a → b → c → a"; a cycle of more than 12 ids shows its first 9 and last 3.
    static std::string describe_cycle(const std::vector<std::string>& path);

    std::size_t size() const noexcept { return nodes_.size(); }
    const Node& node(std::size_t index) const { return nodes_.at(index); }
    const std::string& id(std::size_t index) const { return nodes_.at(index).id; }
    std::optional<std::size_t> index_of(std::string_view id) const noexcept;

    /// Every node after all of its needs; among nodes free at the same time, declaration
    /// order first.
    const std::vector<std::size_t>& topological_order() const noexcept { return order_; }

    /// Stages: level 0 needs nothing, level k needs something at level k-1. Nodes of one
    /// level are independent of each other (a plan for --dry-run and the graph view).
    std::vector<std::vector<std::size_t>> levels() const;

    /// Every node `index` needs directly or transitively, ascending.
    std::vector<std::size_t> upstream(std::size_t index) const;
    bool is_upstream(std::size_t ancestor, std::size_t of) const;

    /// Pending nodes whose needs all satisfy_needs() (succeeded, continued or skipped),
    /// ascending. `status` has one entry per node (throws Error(kInternal) otherwise).
    std::vector<std::size_t> ready(std::span<const StepStatus> status) const;

    /// Pending nodes that can never start: a need failed, or is itself blocked.
    std::vector<std::size_t> blocked(std::span<const StepStatus> status) const;

    /// True when the run is over: nothing is running, and either a node failed (a failed
    /// step stops the run from starting more) or no node is ready.
    bool settled(std::span<const StepStatus> status) const;

private:
    void check_size(std::span<const StepStatus> status) const;

    std::vector<Node> nodes_;
    std::vector<std::size_t> order_;
};

}  // namespace artistsaid::workflow
