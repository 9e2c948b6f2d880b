// Built-in steps without I/O (log, fail, collection.range) run inline: inside the
// transaction that starts the run or records the step before them, chained up to
// RunEngine::kMaxInlineChain steps; everything else is a queue job.
#include <doctest/doctest.h>

#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "tests/integration/runtime/runtime_fixture.hpp"

using namespace artistsaid;

namespace {

using Fixture = test::RuntimeFixture;

std::string chain_of(const std::string& uses, int steps, const std::string& with) {
    std::string yaml = "name: chain-" + uses + "\nsteps:\n";
    for (int i = 1; i <= steps; ++i) {
        yaml += "  - id: s" + std::to_string(i) + "\n    uses: " + uses + "\n";
        if (!with.empty()) yaml += "    with: " + with + "\n";
        if (i > 1) yaml += "    needs: [s" + std::to_string(i - 1) + "]\n";
    }
    return yaml;
}

}  // namespace

TEST_CASE("Runtime.Inline.AChainOfLogStepsFinishesInTheStartingTransaction") {
    Fixture f;  // no worker: nothing can run as a job
    auto run = f.engine->start(f.workflow(chain_of("log", 5, "{ message: hi, level: debug }")),
                               runtime::StartRequest{});
    CHECK(f.run_status(run.run_id) == "succeeded");
    auto steps = f.step_statuses(run.run_id);
    REQUIRE(steps.size() == 5);
    for (const auto& [id, status] : steps) CHECK_MESSAGE(status == "succeeded", id);
    // The events are the same as on the job path: started and succeeded per step.
    CHECK(f.scalar("SELECT count(*) FROM run_event_log WHERE run_id = '" + run.run_id +
                   "'::uuid AND kind = 'step.started'") == 5);
    CHECK(f.scalar("SELECT count(*) FROM run_event_log WHERE run_id = '" + run.run_id +
                   "'::uuid AND kind = 'step.succeeded'") == 5);
    CHECK(f.scalar("SELECT count(*) FROM step_runs WHERE run_id = '" + run.run_id +
                   "'::uuid AND attempt = 1") == 5);
}

TEST_CASE("Runtime.Inline.ALongChainHandsTheRestToTheQueue") {
    Fixture f;
    const int n = runtime::RunEngine::kMaxInlineChain + 6;
    auto run = f.engine->start(f.workflow(chain_of("log", n, "{ message: hi, level: debug }")),
                               runtime::StartRequest{});
    // The first kMaxInlineChain ran at once; the next one waits as a queued job.
    CHECK(f.run_status(run.run_id) == "running");
    CHECK(f.scalar("SELECT count(*) FROM step_runs WHERE run_id = '" + run.run_id +
                   "'::uuid AND status = 'succeeded'") == runtime::RunEngine::kMaxInlineChain);
    CHECK(f.scalar("SELECT count(*) FROM step_runs WHERE run_id = '" + run.run_id +
                   "'::uuid AND status = 'queued'") == 1);
    f.workers.push_back(f.start_worker());
    REQUIRE(f.finished(run.run_id));
    CHECK(f.run_status(run.run_id) == "succeeded");
    CHECK(f.scalar("SELECT count(*) FROM step_runs WHERE run_id = '" + run.run_id +
                   "'::uuid AND status = 'succeeded'") == n);
}

TEST_CASE("Runtime.Inline.NoopStepsAreJobsAndAFailStepFailsTheRunInline") {
    Fixture f;
    auto queued = f.engine->start(f.workflow(chain_of("noop", 3, "")), runtime::StartRequest{});
    CHECK(f.run_status(queued.run_id) == "running");  // noop is a job: no worker yet
    CHECK(f.step_statuses(queued.run_id)["s1"] == "queued");

    auto failing = f.engine->start(f.workflow(R"(
name: fails-inline
steps:
  - id: first
    uses: log
    with: { message: before, level: debug }
  - id: boom
    needs: [first]
    uses: fail
    with: { message: "policy says no" }
  - id: never
    needs: [boom]
    uses: log
    with: { message: after }
)"),
                                   runtime::StartRequest{});
    CHECK(f.run_status(failing.run_id) == "failed");
    auto steps = f.step_statuses(failing.run_id);
    CHECK(steps["first"] == "succeeded");
    CHECK(steps["boom"] == "failed");
    CHECK(steps["never"] == "cancelled");

    f.workers.push_back(f.start_worker());
    REQUIRE(f.finished(queued.run_id));
    CHECK(f.run_status(queued.run_id) == "succeeded");
}

namespace {

// The steps of a run in the order their events say they ran.
std::vector<std::string> started_order(Fixture& f, const std::string& run_id) {
    pqxx::connection c(f.db.url());
    pqxx::read_transaction tx(c);
    std::vector<std::string> out;
    for (const auto& r : tx.exec_params("SELECT payload->>'step' FROM run_event_log WHERE "
                                        "run_id = $1::uuid AND kind = 'step.started' "
                                        "ORDER BY created_at, id",
                                        run_id))
        out.push_back(r[0].as<std::string>());
    return out;
}

}  // namespace

TEST_CASE("Runtime.Inline.TwoWorkflowsWithTheSameStepIdsKeepTheirOwnOrder") {
    // The run-time keeps the last step graph it built per thread: a workflow with the same
    // step ids but other needs, started on the same thread in between, must get its own.
    Fixture f;
    const auto forward = f.workflow(chain_of("log", 3, "{ message: hi, level: debug }"));
    const auto backward = f.workflow(R"(
name: chain-backward
steps:
  - id: s1
    uses: log
    with: { message: hi, level: debug }
    needs: [s2]
  - id: s2
    uses: log
    with: { message: hi, level: debug }
    needs: [s3]
  - id: s3
    uses: log
    with: { message: hi, level: debug }
)");
    for (int round = 0; round < 2; ++round) {
        auto a = f.engine->start(forward, runtime::StartRequest{});
        auto b = f.engine->start(backward, runtime::StartRequest{});
        CHECK(started_order(f, a.run_id) == std::vector<std::string>{"s1", "s2", "s3"});
        CHECK(started_order(f, b.run_id) == std::vector<std::string>{"s3", "s2", "s1"});
        CHECK(f.run_status(a.run_id) == "succeeded");
        CHECK(f.run_status(b.run_id) == "succeeded");
    }
}

TEST_CASE("Runtime.Inline.AConditionReadsEarlierOutputsWhenTheInputsAreLiteral") {
    // A step whose `with` is literal still evaluates its `if` against the run.
    Fixture f;
    const auto definition = f.workflow(R"(
name: inline-condition
inputs:
  word: { type: string }
steps:
  - id: s1
    uses: log
    with: { message: "${{ inputs.word }}", level: debug }
  - id: s2
    uses: log
    needs: [s1]
    if: "${{ steps.s1.outputs.message == 'go' }}"
    with: { message: literal, level: debug }
)");
    runtime::StartRequest go, stop;
    go.inputs = {{"word", "go"}};
    stop.inputs = {{"word", "stop"}};
    auto ran = f.engine->start(definition, go);
    auto skipped = f.engine->start(definition, stop);
    CHECK(f.step_statuses(ran.run_id).at("s2") == "succeeded");
    CHECK(f.step_statuses(skipped.run_id).at("s2") == "skipped");
    CHECK(f.run_status(ran.run_id) == "succeeded");
    CHECK(f.run_status(skipped.run_id) == "succeeded");
}
