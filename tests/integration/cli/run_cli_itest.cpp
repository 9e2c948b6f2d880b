// `artistsaid run/runs/reconcile` as an operator uses them, with a real `artistsaid worker`.
#include <doctest/doctest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/store/migrator.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/cli_runner.hpp"
#include "tests/support/redis_guard.hpp"
#include "tests/support/temp_database.hpp"
#include "tests/support/test_env.hpp"

using namespace artistsaid;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct CliFixture {
    test::TempDatabase db;
    test::RedisPrefixGuard guard;
    fs::path dir = fs::temp_directory_path() / test::unique_name("aa_wf");
    test::CliOptions opts;

    CliFixture() {
        fs::create_directories(dir);
        opts.env = {{"ARTISTSAID_DATABASE_URL", db.url()},
                    {"ARTISTSAID_REDIS_URL", test::redis_url()},
                    {"ARTISTSAID_QUEUE_PREFIX", guard.prefix()},
                    {"ARTISTSAID_WORKFLOWS_DIR", dir.string()},
                    {"ARTISTSAID_LOG_FORMAT", "text"},
                    {"ARTISTSAID_SECRET_API_TOKEN", "tok_Sup3rSecretValue"}};
        auto up = test::run_cli({"migrate", "up"}, opts);
        REQUIRE(up.exit_code == 0);
    }
    ~CliFixture() { fs::remove_all(dir); }
    void write(const std::string& name, const std::string& yaml) const {
        std::ofstream(dir / name) << yaml;
    }
    std::unique_ptr<test::ChildProcess> worker() const {
        return std::make_unique<test::ChildProcess>(test::cli_binary(),
                                                    std::vector<std::string>{"worker"}, opts.env);
    }
};

const char* kOnboarding = R"yaml(
name: onboarding
version: 2
inputs:
  client: { type: string, required: true }
steps:
  - id: welcome
    uses: log
    with: { message: "welcome ${{ inputs.client }} (token ${{ secrets.API_TOKEN }})" }
  - id: portfolio
    needs: [welcome]
    uses: log
    with: { message: "portfolio for ${{ inputs.client }}" }
  - id: reject
    needs: [welcome]
    if: "${{ inputs.client == 'blocked' }}"
    uses: fail
    with: { message: "client is blocked" }
)yaml";

// noop steps always run as queue jobs (log would run inline, at start).
const char* kHandoff = R"yaml(
name: handoff
steps:
  - id: first
    uses: noop
  - id: second
    needs: [first]
    uses: noop
)yaml";

}  // namespace

TEST_CASE("Cli.Run.WaitFollowsStepsAndExitsWithTheRunStatus") {
    CliFixture f;
    f.write("onboarding.yaml", kOnboarding);
    auto worker = f.worker();

    auto ok = test::run_cli({"run", "onboarding", "--input", "client=Ada", "--wait", "--timeout", "30s"},
                            f.opts);
    INFO(ok.out << ok.err);
    CHECK(ok.exit_code == 0);
    CHECK(ok.out.find("welcome: succeeded") != std::string::npos);
    CHECK(ok.out.find("reject: skipped") != std::string::npos);
    CHECK(ok.out.find("succeeded") != std::string::npos);

    auto bad = test::run_cli({"run", "onboarding", "--input", "client=blocked", "--wait"}, f.opts);
    CHECK(bad.exit_code == 1);
    CHECK(bad.out.find("client is blocked") != std::string::npos);

    auto list = test::run_cli({"runs", "list", "--json"}, f.opts);
    REQUIRE(list.exit_code == 0);
    auto runs = nlohmann::json::parse(list.out);
    REQUIRE(runs.size() == 2);
    std::string failed_id = runs[0]["status"] == "failed" ? runs[0]["id"] : runs[1]["id"];

    auto show = test::run_cli({"runs", "show", failed_id, "--json"}, f.opts);
    REQUIRE(show.exit_code == 0);
    CHECK(show.out.find("tok_Sup3rSecretValue") == std::string::npos);  // redacted
    CHECK(show.out.find("***") != std::string::npos);
    auto doc = nlohmann::json::parse(show.out);
    CHECK(doc["status"] == "failed");
    CHECK(doc["version"] == 2);

    // Logs too: the worker's, and the CLI's (log steps run inline where the run starts).
    CHECK(worker->output().find("tok_Sup3rSecretValue") == std::string::npos);
    CHECK((ok.out + ok.err + bad.out + bad.err).find("tok_Sup3rSecretValue") == std::string::npos);
}

TEST_CASE("Cli.Run.DryRunAndBadInputChangeNothing") {
    CliFixture f;
    f.write("onboarding.yaml", kOnboarding);
    auto plan = test::run_cli({"run", "onboarding", "--input", "client=Ada", "--dry-run"}, f.opts);
    INFO(plan.err);
    CHECK(plan.exit_code == 0);
    CHECK(plan.out.find("nothing is executed") != std::string::npos);
    CHECK(plan.out.find("portfolio") != std::string::npos);

    auto missing = test::run_cli({"run", "onboarding", "--dry-run"}, f.opts);
    CHECK(missing.exit_code == 2);
    CHECK(missing.err.find("client") != std::string::npos);

    auto typo = test::run_cli({"run", "onbording"}, f.opts);
    CHECK(typo.exit_code == 2);
    CHECK(typo.err.find("did you mean 'onboarding'") != std::string::npos);

    auto list = test::run_cli({"runs", "list", "--json"}, f.opts);
    CHECK(nlohmann::json::parse(list.out).empty());

    auto not_uuid = test::run_cli({"runs", "show", "nope"}, f.opts);
    CHECK(not_uuid.exit_code == 2);
}

TEST_CASE("Cli.Reconcile.EnqueuesStepsWhoseJobsWereLost") {
    CliFixture f;
    f.write("handoff.yaml", kHandoff);
    auto started = test::run_cli({"run", "handoff"}, f.opts);
    REQUIRE(started.exit_code == 0);
    std::string id = started.out.substr(0, started.out.find('\n'));
    // Redis loses the queued job before any worker saw it.
    auto conn = test::redis_connection();
    auto keys = conn.command({"KEYS", "{" + f.guard.prefix() + ":*"});
    std::vector<std::string> del{"DEL"};
    for (size_t i = 0; i < keys.view().size(); ++i) del.push_back(keys.view()[i].string());
    if (del.size() > 1) conn.command(del);

    auto reconcile = test::run_cli({"reconcile", "--json"}, f.opts);
    REQUIRE(reconcile.exit_code == 0);
    auto report = nlohmann::json::parse(reconcile.out);
    CHECK(report["runs_checked"] == 1);
    CHECK(report["jobs_enqueued"] == 1);
    auto again = test::run_cli({"reconcile", "--json"}, f.opts);  // the job exists: no duplicate
    auto stats = test::run_cli({"queue", "stats", "workflows", "--json"}, f.opts);
    CHECK(nlohmann::json::parse(stats.out)[0]["ready"] == 1);

    auto worker = f.worker();
    REQUIRE(test::eventually(
        [&] {
            auto show = test::run_cli({"runs", "show", id, "--json"}, f.opts);
            return show.exit_code == 0 && nlohmann::json::parse(show.out)["status"] == "succeeded";
        },
        30s));
}
