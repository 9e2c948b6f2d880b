// Dag: order, ready sets, skipped/failed semantics, cycles — at several sizes.
#include "engine/workflow/dag.hpp"

#include <doctest/doctest.h>

using namespace artistsaid;
using namespace artistsaid::workflow;
using S = StepStatus;

namespace {

// a → {b, c} → d: the diamond.
Dag diamond() {
    return Dag::build(Dag::NodeList{{"a", {}}, {"b", {"a"}}, {"c", {"a"}}, {"d", {"b", "c"}}});
}

std::vector<std::string> ids(const Dag& dag, const std::vector<std::size_t>& nodes) {
    std::vector<std::string> out;
    for (auto n : nodes) out.push_back(dag.id(n));
    return out;
}

std::string message_of(const Dag::NodeList& nodes) {
    try {
        Dag::build(nodes);
    } catch (const InputError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("Dag.Diamond.OrderLevelsAndUpstream") {
    Dag dag = diamond();
    CHECK(dag.size() == 4);
    CHECK(ids(dag, dag.topological_order()) == std::vector<std::string>{"a", "b", "c", "d"});
    auto levels = dag.levels();
    REQUIRE(levels.size() == 3);
    CHECK(ids(dag, levels[1]) == std::vector<std::string>{"b", "c"});
    CHECK(ids(dag, dag.upstream(3)) == std::vector<std::string>{"a", "b", "c"});
    CHECK(dag.is_upstream(0, 3));
    CHECK_FALSE(dag.is_upstream(1, 2));
    CHECK(dag.node(0).dependents == std::vector<std::size_t>{1, 2});
    CHECK(dag.index_of("c") == 2u);
    CHECK_FALSE(dag.index_of("zz"));
}

TEST_CASE("Dag.Ready.IndependentBranchesRunTogether") {
    Dag dag = diamond();
    std::vector<S> s(4, S::kPending);
    CHECK(ids(dag, dag.ready(s)) == std::vector<std::string>{"a"});
    s[0] = S::kRunning;
    CHECK(dag.ready(s).empty());
    CHECK_FALSE(dag.settled(s));
    s[0] = S::kSucceeded;
    CHECK(ids(dag, dag.ready(s)) == std::vector<std::string>{"b", "c"});
    s[1] = S::kSucceeded;
    CHECK(ids(dag, dag.ready(s)) == std::vector<std::string>{"c"});
    s[2] = S::kSucceeded;
    CHECK(ids(dag, dag.ready(s)) == std::vector<std::string>{"d"});
    s[3] = S::kSucceeded;
    CHECK(dag.ready(s).empty());
    CHECK(dag.settled(s));
}

TEST_CASE("Dag.Ready.SkippedAndContinuedSatisfyNeedsFailedBlocks") {
    Dag dag = diamond();
    std::vector<S> s = {S::kSucceeded, S::kSkipped, S::kContinued, S::kPending};
    CHECK(ids(dag, dag.ready(s)) == std::vector<std::string>{"d"});
    CHECK(dag.blocked(s).empty());

    s = {S::kSucceeded, S::kFailed, S::kSucceeded, S::kPending};
    CHECK(dag.ready(s).empty());
    CHECK(ids(dag, dag.blocked(s)) == std::vector<std::string>{"d"});
    CHECK(dag.settled(s));

    // Blocking is transitive, and a failure settles the run even with independent work left.
    Dag chain = Dag::build(Dag::NodeList{{"a", {}}, {"b", {"a"}}, {"c", {"b"}}, {"x", {}}});
    std::vector<S> t = {S::kFailed, S::kPending, S::kPending, S::kPending};
    CHECK(ids(chain, chain.blocked(t)) == std::vector<std::string>{"b", "c"});
    CHECK(ids(chain, chain.ready(t)) == std::vector<std::string>{"x"});
    CHECK(chain.settled(t));
    t[3] = S::kRunning;
    CHECK_FALSE(chain.settled(t));

    CHECK(satisfies_needs(S::kSkipped));
    CHECK_FALSE(satisfies_needs(S::kFailed));
    CHECK(to_string(S::kContinued) == "continued");
    CHECK_THROWS_AS(dag.ready(std::vector<S>(3, S::kPending)), Error);
}

TEST_CASE("Dag.Cycles.AreRefusedWithTheirPath") {
    CHECK(message_of({{"a", {"c"}}, {"b", {"a"}}, {"c", {"b"}}}) ==
          "needs form a cycle: a → c → b → a");
    CHECK(message_of({{"a", {"a"}}}) == "step 'a' needs itself");
    CHECK(message_of({{"a", {"x"}}}) == "step 'a' needs unknown step 'x'");
    CHECK(message_of({{"a", {}}, {"a", {}}}) == "step id 'a' is used twice");

    auto cycles =
        Dag::find_cycles({{"a", {"b"}}, {"b", {"a"}}, {"c", {"d"}}, {"d", {"c"}}, {"e", {"zz"}}});
    REQUIRE(cycles.size() == 2);
    CHECK(cycles[0] == std::vector<std::string>{"a", "b", "a"});
    CHECK(cycles[1] == std::vector<std::string>{"c", "d", "c"});
    CHECK(Dag::find_cycles({{"a", {}}, {"b", {"a"}}}).empty());
}

TEST_CASE("Dag.Sizes.ChainsAndFanOutsOfEverySize") {
    for (std::size_t n : {1u, 2u, 8u, 1000u, 100000u}) {
        CAPTURE(n);
        // A chain: s0 ← s1 ← ... (iterative algorithms: no deep recursion).
        Dag::NodeList chain;
        for (std::size_t i = 0; i < n; ++i)
            chain.emplace_back("s" + std::to_string(i),
                               i == 0 ? std::vector<std::string>{}
                                      : std::vector<std::string>{"s" + std::to_string(i - 1)});
        Dag dag = Dag::build(chain);
        CHECK(dag.topological_order().size() == n);
        CHECK(dag.levels().size() == n);
        // Closing the chain into a ring is one cycle through every node.
        chain[0].second = {"s" + std::to_string(n - 1)};
        auto cycles = Dag::find_cycles(chain);
        REQUIRE(cycles.size() == 1);
        CHECK(cycles[0].size() == n + 1);

        // A fan-out: one root, n - 1 independent children, all ready together.
        Dag::NodeList fan{{"root", {}}};
        for (std::size_t i = 1; i < n; ++i)
            fan.emplace_back("c" + std::to_string(i), std::vector<std::string>{"root"});
        Dag f = Dag::build(fan);
        std::vector<S> s(n, S::kPending);
        s[0] = S::kSucceeded;
        CHECK(f.ready(s).size() == n - 1);
    }
}

TEST_CASE("Dag.Build.FromStepDefinitionsKeepsDeclarationOrder") {
    std::vector<StepDefinition> steps(3);
    steps[0].id = "notify";
    steps[0].needs = {"charge"};
    steps[1].id = "invoice";
    steps[2].id = "charge";
    steps[2].needs = {"invoice"};
    Dag dag = Dag::build(steps);
    CHECK(ids(dag, dag.topological_order()) ==
          std::vector<std::string>{"invoice", "charge", "notify"});
}

TEST_CASE("Dag.Cycles.LongPathsAreShortened") {
    std::vector<std::string> path;
    for (int i = 0; i < 20; ++i) path.push_back("s" + std::to_string(i));
    path.push_back("s0");
    CHECK(Dag::describe_cycle(path) ==
          "s0 → s1 → s2 → s3 → s4 → s5 → s6 → s7 → s8 → ... (9 more) → s18 → s19 → s0");
    CHECK(Dag::describe_cycle({"a", "b", "a"}) == "a → b → a");
}
