#include "engine/workflow/dag.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <queue>

#include "engine/core/error.hpp"

namespace artistsaid::workflow {

std::string_view to_string(StepStatus status) noexcept {
    switch (status) {
        case StepStatus::kPending:
            return "pending";
        case StepStatus::kRunning:
            return "running";
        case StepStatus::kSucceeded:
            return "succeeded";
        case StepStatus::kFailed:
            return "failed";
        case StepStatus::kContinued:
            return "continued";
        case StepStatus::kSkipped:
            return "skipped";
    }
    return "pending";
}

std::string Dag::describe_cycle(const std::vector<std::string>& path) {
    constexpr std::size_t kShown = 12;
    std::string out;
    for (std::size_t i = 0; i < path.size(); ++i) {
        if (path.size() > kShown && i == kShown - 3) {
            out += " → ... (" + std::to_string(path.size() - kShown) + " more)";
            i = path.size() - 3;
        }
        out += (out.empty() ? "" : " → ") + path[i];
    }
    return out;
}

Dag Dag::build(const std::vector<StepDefinition>& steps) {
    NodeList nodes;
    nodes.reserve(steps.size());
    for (const auto& s : steps) nodes.emplace_back(s.id, s.needs);
    return build(nodes);
}

Dag Dag::build(const NodeList& nodes) {
    Dag dag;
    std::map<std::string, std::size_t, std::less<>> index;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        if (!index.emplace(nodes[i].first, i).second)
            throw InputError("step id '" + nodes[i].first + "' is used twice");
        dag.nodes_.push_back({nodes[i].first, {}, {}});
    }
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        for (const auto& need : nodes[i].second) {
            auto it = index.find(need);
            if (it == index.end())
                throw InputError("step '" + nodes[i].first + "' needs unknown step '" + need + "'");
            if (it->second == i) throw InputError("step '" + need + "' needs itself");
            auto& needs = dag.nodes_[i].needs;
            if (std::find(needs.begin(), needs.end(), it->second) != needs.end()) continue;
            needs.push_back(it->second);
            dag.nodes_[it->second].dependents.push_back(i);
        }
    }
    auto cycles = find_cycles(nodes);
    if (!cycles.empty()) throw InputError("needs form a cycle: " + describe_cycle(cycles.front()));

    // Kahn's algorithm; a min-heap keeps declaration order among free nodes.
    std::vector<std::size_t> remaining(dag.nodes_.size());
    std::priority_queue<std::size_t, std::vector<std::size_t>, std::greater<>> free;
    for (std::size_t i = 0; i < dag.nodes_.size(); ++i) {
        remaining[i] = dag.nodes_[i].needs.size();
        if (remaining[i] == 0) free.push(i);
    }
    while (!free.empty()) {
        std::size_t i = free.top();
        free.pop();
        dag.order_.push_back(i);
        for (std::size_t d : dag.nodes_[i].dependents)
            if (--remaining[d] == 0) free.push(d);
    }
    return dag;
}

std::vector<std::vector<std::string>> Dag::find_cycles(const NodeList& nodes) {
    std::map<std::string, std::size_t, std::less<>> index;
    for (std::size_t i = 0; i < nodes.size(); ++i) index.emplace(nodes[i].first, i);
    std::vector<std::vector<std::size_t>> edges(nodes.size());
    for (std::size_t i = 0; i < nodes.size(); ++i)
        for (const auto& need : nodes[i].second)
            if (auto it = index.find(need); it != index.end()) edges[i].push_back(it->second);

    enum class Color { kWhite, kGray, kBlack };
    std::vector<Color> color(nodes.size(), Color::kWhite);
    std::vector<std::vector<std::string>> cycles;
    struct Frame {
        std::size_t node;
        std::size_t next_edge;
    };
    for (std::size_t start = 0; start < nodes.size(); ++start) {
        if (color[start] != Color::kWhite) continue;
        std::vector<Frame> stack{{start, 0}};
        color[start] = Color::kGray;
        while (!stack.empty()) {
            Frame& top = stack.back();
            if (top.next_edge == edges[top.node].size()) {
                color[top.node] = Color::kBlack;
                stack.pop_back();
                continue;
            }
            std::size_t next = edges[top.node][top.next_edge++];
            if (color[next] == Color::kWhite) {
                color[next] = Color::kGray;
                stack.push_back({next, 0});
            } else if (color[next] == Color::kGray) {
                std::vector<std::string> path;
                auto from = std::find_if(stack.begin(), stack.end(),
                                         [&](const Frame& f) { return f.node == next; });
                for (auto it = from; it != stack.end(); ++it) path.push_back(nodes[it->node].first);
                path.push_back(nodes[next].first);
                cycles.push_back(std::move(path));
            }
        }
    }
    return cycles;
}

std::optional<std::size_t> Dag::index_of(std::string_view id) const noexcept {
    for (std::size_t i = 0; i < nodes_.size(); ++i)
        if (nodes_[i].id == id) return i;
    return std::nullopt;
}

std::vector<std::vector<std::size_t>> Dag::levels() const {
    std::vector<std::size_t> level(nodes_.size(), 0);
    std::size_t deepest = 0;
    for (std::size_t i : order_) {
        for (std::size_t need : nodes_[i].needs) level[i] = std::max(level[i], level[need] + 1);
        deepest = std::max(deepest, level[i]);
    }
    std::vector<std::vector<std::size_t>> out(nodes_.empty() ? 0 : deepest + 1);
    for (std::size_t i = 0; i < nodes_.size(); ++i) out[level[i]].push_back(i);
    return out;
}

std::vector<std::size_t> Dag::upstream(std::size_t index) const {
    std::vector<bool> seen(nodes_.size(), false);
    std::vector<std::size_t> todo = nodes_.at(index).needs;
    while (!todo.empty()) {
        std::size_t n = todo.back();
        todo.pop_back();
        if (seen[n]) continue;
        seen[n] = true;
        for (std::size_t need : nodes_[n].needs) todo.push_back(need);
    }
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < nodes_.size(); ++i)
        if (seen[i]) out.push_back(i);
    return out;
}

bool Dag::is_upstream(std::size_t ancestor, std::size_t of) const {
    auto up = upstream(of);
    return std::binary_search(up.begin(), up.end(), ancestor);
}

void Dag::check_size(std::span<const StepStatus> status) const {
    if (status.size() != nodes_.size())
        throw Error(ErrorCode::kInternal, "Dag: " + std::to_string(status.size()) +
                                              " statuses for " + std::to_string(nodes_.size()) +
                                              " steps");
}

std::vector<std::size_t> Dag::ready(std::span<const StepStatus> status) const {
    check_size(status);
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        if (status[i] != StepStatus::kPending) continue;
        const auto& needs = nodes_[i].needs;
        if (std::all_of(needs.begin(), needs.end(),
                        [&](std::size_t n) { return satisfies_needs(status[n]); }))
            out.push_back(i);
    }
    return out;
}

std::vector<std::size_t> Dag::blocked(std::span<const StepStatus> status) const {
    check_size(status);
    std::vector<bool> dead(nodes_.size(), false);
    for (std::size_t i : order_) {
        if (status[i] != StepStatus::kPending) continue;
        for (std::size_t n : nodes_[i].needs)
            if (status[n] == StepStatus::kFailed || dead[n]) dead[i] = true;
    }
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < nodes_.size(); ++i)
        if (dead[i]) out.push_back(i);
    return out;
}

bool Dag::settled(std::span<const StepStatus> status) const {
    check_size(status);
    bool failed = false;
    for (auto s : status) {
        if (s == StepStatus::kRunning) return false;
        failed = failed || s == StepStatus::kFailed;
    }
    return failed || ready(status).empty();
}

}  // namespace artistsaid::workflow
