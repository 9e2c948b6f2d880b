// `artistsaid validate` and `artistsaid workflows …` as an operator runs them.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/cli_runner.hpp"
#include "tests/support/test_env.hpp"

using artistsaid::test::CliOptions;
using artistsaid::test::run_cli;
namespace fs = std::filesystem;

namespace {

std::string examples() { return artistsaid::test::source_dir() + "/examples/workflows"; }
std::string corpus() {
    return artistsaid::test::source_dir() + "/tests/fixtures/workflows/invalid";
}

CliOptions with_examples() {
    CliOptions options;
    options.env = {{"ARTISTSAID_WORKFLOWS_DIR", examples()}};
    return options;
}

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("Cli.Validate.ValidFilesExit0") {
    auto one = run_cli({"validate", examples() + "/client-onboarding.yaml"});
    CAPTURE(one.err);
    CHECK(one.exit_code == 0);
    CHECK(one.out == "ok: 1 workflow valid\n");
    auto dir = run_cli({"validate", examples()});
    CHECK(dir.exit_code == 0);
    CHECK(dir.out == "ok: 4 workflows valid\n");
}

TEST_CASE("Cli.Validate.ErrorsExit2WithLineCaretAndExpected") {
    std::string file = corpus() + "/unknown_output.yaml";
    auto r = run_cli({"validate", file});
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(has(r.err, file + ":13:50: error: step 'fetch' (log) has no output 'mesage'\n"
                            " 13 |       message: \"fetched: ${{ steps.fetch.outputs.mesage }}\"\n"
                            "    |                                                  ^\n"
                            "    = expected: one of message\n"
                            "    = help: did you mean 'message'?\n"));
    CHECK(has(r.err, "1 error in 1 file; 0 workflows valid"));

    // Several files: every error of every file, then a summary.
    auto many = run_cli({"validate", examples() + "/kickoff-call.yaml",
                         corpus() + "/needs_cycle.yaml", corpus() + "/with_unknown_key.yaml"});
    CHECK(many.exit_code == 2);
    CHECK(has(many.err, "needs form a cycle: a → c → b → a"));
    CHECK(has(many.err, "'mesage' is not an input of log"));
    CHECK(has(many.err, "3 errors in 2 files; 1 workflow valid"));

    auto missing = run_cli({"validate", "/no/such/file.yaml"});
    CHECK(missing.exit_code == 2);
    CHECK(has(missing.err, "does not exist"));
    auto none = run_cli({"validate"});
    CHECK(none.exit_code == 2);
    CHECK(has(none.err, "takes FILE|DIR..."));
}

TEST_CASE("Cli.Validate.Json") {
    auto r = run_cli({"validate", "--json", corpus() + "/needs_unknown.yaml",
                      examples() + "/kickoff-call.yaml"});
    CHECK(r.exit_code == 2);
    auto doc = nlohmann::json::parse(r.out);
    CHECK(doc["ok"] == false);
    CHECK(doc["valid_workflows"] == 1);
    CHECK(doc["error_count"] == 1);
    auto error = doc["invalid_files"][0]["errors"][0];
    CHECK(error["line"] == 10);
    CHECK(error["column"] == 13);
    CHECK(error["hint"] == "did you mean 'charge'?");
}

TEST_CASE("Cli.Workflows.ListShowGraph") {
    auto list = run_cli({"workflows", "list"}, with_examples());
    CAPTURE(list.err);
    REQUIRE(list.exit_code == 0);
    CHECK(list.out.rfind("NAME", 0) == 0);
    CHECK(has(list.out,
              "client-onboarding   2        6      webhook docusign: envelope-completed; event "
              "client.created; command"));
    CHECK(has(list.out,
              "commission-payout   1        4      schedule 0 6 1 * * Europe/Berlin; command"));

    auto json = run_cli({"workflows", "list", "--json"}, with_examples());
    REQUIRE(json.exit_code == 0);
    auto doc = nlohmann::json::parse(json.out);
    CHECK(doc["workflows"].size() == 4);
    CHECK(doc["workflows"][0]["name"] == "client-onboarding");
    CHECK(doc["workflows"][0]["steps"] == 6);
    CHECK(doc["invalid"].empty());

    auto show = run_cli({"workflows", "show", "commission-payout"}, with_examples());
    REQUIRE(show.exit_code == 0);
    CHECK(has(show.out, "name:        commission-payout (version 1)"));
    CHECK(has(show.out, "  release    log         approval   for_each (max 8), compensate log"));
    CHECK(has(show.out, "on_failure:"));
    auto show_json = run_cli({"workflows", "show", "kickoff-call", "--json"}, with_examples());
    REQUIRE(show_json.exit_code == 0);
    CHECK(nlohmann::json::parse(show_json.out)["steps"][1]["needs"] ==
          nlohmann::json::array({"wait_for_start"}));

    auto unknown = run_cli({"workflows", "show", "kickof-call"}, with_examples());
    CHECK(unknown.exit_code == 2);
    CHECK(has(unknown.err, "no workflow named 'kickof-call'"));
    CHECK(has(unknown.err, "did you mean 'kickoff-call'?"));

    auto mermaid = run_cli({"workflows", "graph", "kickoff-call"}, with_examples());
    REQUIRE(mermaid.exit_code == 0);
    CHECK(mermaid.out.rfind("flowchart TD\n", 0) == 0);
    CHECK(has(mermaid.out, "s_wait_for_start --> s_booked"));
    auto dot = run_cli({"workflows", "graph", "kickoff-call", "--format", "dot"}, with_examples());
    REQUIRE(dot.exit_code == 0);
    CHECK(has(dot.out, "\"booked\" -> \"confirm\";"));
    auto bad = run_cli({"workflows", "graph", "kickoff-call", "--format", "svg"}, with_examples());
    CHECK(bad.exit_code == 2);
    CHECK(has(bad.err, "expected mermaid or dot"));
}

TEST_CASE("Cli.Workflows.InvalidFilesAreReportedNotHidden") {
    fs::path dir = fs::temp_directory_path() / artistsaid::test::unique_name("wf_cli");
    fs::create_directories(dir);
    std::ofstream(dir / "good.yaml")
        << "name: good\nsteps:\n  - { id: a, uses: log, with: { message: hi } }\n";
    std::ofstream(dir / "bad.yaml") << "name: bad\nsteps:\n  - { id: a, uses: lgo }\n";
    CliOptions options;
    options.env = {{"ARTISTSAID_WORKFLOWS_DIR", dir.string()}};
    auto list = run_cli({"workflows", "list"}, options);
    CHECK(list.exit_code == 0);
    CHECK(has(list.out, "good"));
    CHECK_FALSE(has(list.out, "bad"));
    CHECK(has(list.err, "warning: " + (dir / "bad.yaml").string() + " has 1 error"));
    auto show = run_cli({"workflows", "show", "bad"}, options);
    CHECK(show.exit_code == 2);
    CHECK(has(show.err, "1 invalid file(s) there were skipped"));
    auto validate = run_cli({"validate", dir.string()});
    CHECK(validate.exit_code == 2);
    CHECK(has(validate.err, "unknown step type 'lgo'"));
    fs::remove_all(dir);

    CliOptions nowhere;
    nowhere.env = {{"ARTISTSAID_WORKFLOWS_DIR", "/no/such/dir"}};
    auto missing = run_cli({"workflows", "list"}, nowhere);
    CHECK(missing.exit_code == 2);
    CHECK(has(missing.err, "does not exist or is not a directory"));
}
