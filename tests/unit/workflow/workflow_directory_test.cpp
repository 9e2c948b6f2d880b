// WorkflowDirectory (a deployment of workflows, cross-checked) and WorkflowGraph.
#include "engine/workflow/workflow_directory.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "engine/workflow/workflow_graph.hpp"
#include "tests/support/test_env.hpp"

using namespace artistsaid;
using namespace artistsaid::workflow;
namespace fs = std::filesystem;

namespace {

const Validator& validator() {
    static const StepCatalog catalog = StepCatalog::with_builtins();
    static const Validator v(catalog);
    return v;
}

// A throw-away directory, removed when the test ends.
struct TempDir {
    fs::path path = fs::temp_directory_path() / test::unique_name("wf_dir");
    TempDir() { fs::create_directories(path); }
    ~TempDir() { fs::remove_all(path); }
    void write(const std::string& name, const std::string& text) const {
        std::ofstream(path / name) << text;
    }
};

}  // namespace

TEST_CASE("WorkflowDirectory.Examples.LoadAndCrossCheck") {
    auto dir =
        WorkflowDirectory::load(fs::path(test::source_dir()) / "examples/workflows", validator());
    for (const auto& d : dir.invalid()) CAPTURE(d.render());
    CHECK(dir.ok());
    CHECK(dir.names() == std::vector<std::string>{"client-onboarding", "commission-payout",
                                                  "kickoff-call", "support-escalation"});
    REQUIRE(dir.find("kickoff-call") != nullptr);
    CHECK(dir.find("nope") == nullptr);
}

TEST_CASE("WorkflowDirectory.CrossChecks.NamesAndSubWorkflows") {
    TempDir tmp;
    tmp.write("a.yaml", R"(name: parent
steps:
  - id: child
    uses: workflow.run
    with:
      workflow: chlid
  - id: child2
    uses: workflow.run
    with:
      workflow: child
      inputs: { client: x, amout: 1 }
  - id: dynamic
    uses: workflow.run
    with: { workflow: "${{ 'child' }}" }
)");
    tmp.write("b.yml",
              "name: child\ninputs:\n  client_id: { type: string, required: true }\n"
              "  amount: integer\nsteps:\n  - { id: a, uses: log, with: { message: hi } }\n");
    tmp.write("c.yaml", "name: child\nsteps:\n  - { id: a, uses: log, with: { message: hi } }\n");
    tmp.write("ignored.txt", "not yaml");
    fs::create_directories(tmp.path / "sub");
    tmp.write("sub/d.yaml", "broken: [");
    auto dir = WorkflowDirectory::load(tmp.path, validator());
    CHECK(dir.file_count() == 3);
    CHECK(dir.names() == std::vector<std::string>{"child"});
    REQUIRE(dir.invalid().size() == 2);
    std::string a;
    for (const auto& d : dir.invalid()[0].items())
        a += std::to_string(d.where.line) + ":" + std::to_string(d.where.column) + " " + d.message +
             "\n";
    CHECK(a ==
          "6:17 unknown workflow 'chlid'\n"
          "11:7 workflow 'child' requires the input 'client_id'\n"
          "11:17 workflow 'child' has no input 'client'\n"
          "11:28 workflow 'child' has no input 'amout'\n");
    CHECK(dir.invalid()[0].items()[0].hint == "did you mean 'child'?");
    const auto& dup = dir.invalid()[1].items();
    REQUIRE(dup.size() == 1);
    CHECK(dup[0].message == "workflow 'child' is also defined in " + (tmp.path / "b.yml").string());
    CHECK_THROWS_AS(WorkflowDirectory::load(tmp.path / "missing", validator()), InputError);
}

TEST_CASE("WorkflowGraph.Render.MermaidAndDot") {
    auto r = validator().validate(R"(name: g
steps:
  - { id: a, uses: log, with: { message: "1" } }
  - { id: end, needs: [a], for_each: [1], uses: log, with: { message: "2" } }
  - { id: c, needs: [a, end], if: false, uses: log, with: { message: "say \"hi\"" } }
on_failure:
  - { id: f, uses: log, with: { message: x } }
)",
                                  "g.yaml");
    REQUIRE(r.ok());
    WorkflowGraph graph(*r.definition);
    CHECK(graph.to_mermaid() ==
          "flowchart TD\n"
          "    s_a[\"a<br/>log\"]\n"
          "    s_end[[\"end<br/>log, for_each\"]]\n"
          "    s_c[\"c<br/>log, if\"]\n"
          "    s_a --> s_end\n"
          "    s_a --> s_c\n"
          "    s_end --> s_c\n"
          "    subgraph on_failure\n"
          "        f_f[\"f<br/>log\"]\n"
          "    end\n"
          "    style on_failure stroke-dasharray: 5 5\n");
    std::string dot = graph.to_dot();
    CHECK(dot.find("digraph \"g\" {") == 0);
    CHECK(dot.find("\"end\" [label=\"end\\nlog, for_each\", peripheries=2];") != std::string::npos);
    CHECK(dot.find("\"a\" -> \"c\";") != std::string::npos);
    CHECK(dot.find("subgraph cluster_on_failure") != std::string::npos);
    CHECK(dot.find("\"on_failure.f\"") != std::string::npos);
    CHECK(dot.back() == '\n');
}
