// wait.event against real PostgreSQL and Redis, with real workers: a step waits durably
// for an event with its key (emitted through the engine or `artistsaid events emit`), sees
// an event that arrived just before it started waiting, and times out into a failure or
// into outputs that say so.
#include <doctest/doctest.h>

#include <thread>

#include "tests/integration/runtime/runtime_fixture.hpp"

using namespace artistsaid;
using namespace std::chrono_literals;
using test::eventually;
using Fixture = test::RuntimeFixture;

namespace {

const char* kPayment = R"(
name: await-payment
inputs:
  invoice_id: { type: string, required: true }
  delay_ms: { type: integer, default: 0 }
steps:
  - id: prepare
    uses: test.count
    with: { tag: "prepare ${{ inputs.invoice_id }}", sleep_ms: "${{ inputs.delay_ms }}" }
  - id: paid
    needs: [prepare]
    uses: wait.event
    with: { event: payment.succeeded, key: "${{ inputs.invoice_id }}", timeout: 1h }
  - id: receipt
    needs: [paid]
    uses: test.count
    with: { tag: "receipt ${{ inputs.invoice_id }} for ${{ steps.paid.outputs.event.amount }}" }
)";

std::string tag_of(Fixture& f, const std::string& run_id, const std::string& step) {
    return f.text("SELECT result->>'tag' FROM step_effects WHERE idempotency_key = '" + run_id +
                  ":" + step + "'");
}

}  // namespace

TEST_CASE("Runtime.WaitEvent.OnlyAMatchingEventResumesTheStep") {
    Fixture f;
    f.workers.push_back(f.start_worker({"concurrency=4"}));
    auto def = f.workflow(kPayment);
    runtime::StartRequest one, two;
    one.inputs = {{"invoice_id", "inv-1"}};
    two.inputs = {{"invoice_id", "inv-2"}};
    auto first = f.engine->start(def, one);
    auto second = f.engine->start(def, two);
    REQUIRE(eventually(
        [&] {
            return f.step_statuses(first.run_id)["paid"] == "waiting" &&
                   f.step_statuses(second.run_id)["paid"] == "waiting";
        },
        10s));

    // Another key, another event name: nobody resumes.
    CHECK(f.engine->emit_event("payment.succeeded", "inv-9", {{"amount", 1}}).resumed == 0);
    CHECK(f.engine->emit_event("payment.failed", "inv-1", {{"amount", 1}}).resumed == 0);
    auto report = f.engine->emit_event("payment.succeeded", "inv-1", {{"amount", 42}});
    CHECK(report.resumed == 1);
    REQUIRE(f.finished(first.run_id));
    CHECK(f.run_status(first.run_id) == "succeeded");
    CHECK(tag_of(f, first.run_id, "receipt") == "receipt inv-1 for 42");
    CHECK(f.step_outputs(first.run_id, "paid") ==
          nlohmann::json{{"event", {{"amount", 42}}}, {"timed_out", false}});
    std::this_thread::sleep_for(300ms);
    CHECK(f.step_statuses(second.run_id)["paid"] == "waiting");

    // The CLI, as an operator or a script would.
    auto cli = test::run_cli({"events", "emit", "payment.succeeded", "--key", "inv-2", "--data",
                              R"({"amount": 7})", "--json"},
                             f.cli_options());
    INFO(cli.out << cli.err);
    REQUIRE(cli.exit_code == 0);
    CHECK(nlohmann::json::parse(cli.out)["resumed"] == 1);
    REQUIRE(f.finished(second.run_id));
    CHECK(tag_of(f, second.run_id, "receipt") == "receipt inv-2 for 7");

    // The wait and the event are in PostgreSQL.
    CHECK(f.scalar("SELECT count(*) FROM run_waits WHERE outcome = 'event'") == 2);
    CHECK(f.scalar("SELECT count(*) FROM workflow_events WHERE name = 'payment.succeeded'") == 3);
    auto bad = test::run_cli({"events", "emit", "payment.succeeded", "--key", "x", "--data", "[1"},
                             f.cli_options());
    CHECK(bad.exit_code == 2);
    auto no_key = test::run_cli({"events", "emit", "payment.succeeded"}, f.cli_options());
    CHECK(no_key.exit_code == 2);
}

TEST_CASE("Runtime.WaitEvent.AnEventJustBeforeTheWaitCounts") {
    Fixture f;
    f.workers.push_back(f.start_worker({"concurrency=4"}));
    auto def = f.workflow(kPayment);
    runtime::StartRequest req;
    req.inputs = {{"invoice_id", "inv-early"}, {"delay_ms", 1500}};
    auto run = f.engine->start(def, req);
    // The run exists; its wait.event step has not started yet.
    REQUIRE(eventually([&] { return f.step_statuses(run.run_id)["prepare"] == "running"; }, 10s));
    CHECK(f.engine->emit_event("payment.succeeded", "inv-early", {{"amount", 5}}).resumed == 0);
    REQUIRE(f.finished(run.run_id));
    CHECK(f.run_status(run.run_id) == "succeeded");
    CHECK(tag_of(f, run.run_id, "receipt") == "receipt inv-early for 5");

    // An event from before the run was created does not count.
    auto late = f.engine->start(def, req);
    REQUIRE(eventually([&] { return f.step_statuses(late.run_id)["paid"] == "waiting"; }, 10s));
    std::this_thread::sleep_for(300ms);
    CHECK(f.step_statuses(late.run_id)["paid"] == "waiting");
    CHECK(f.engine->cancel(late.run_id));
    CHECK(f.text("SELECT outcome FROM run_waits WHERE run_id = '" + late.run_id + "'") ==
          "cancelled");
}

TEST_CASE("Runtime.WaitEvent.TimeoutFailsOrContinues") {
    Fixture f;
    f.workers.push_back(f.start_worker({"concurrency=4"}));
    auto def = f.workflow(R"(
name: await-signature
inputs:
  on_timeout: { type: string }
steps:
  - id: signed
    uses: wait.event
    with: { event: contract.signed, key: c-1, timeout: 1s, on_timeout: "${{ inputs.on_timeout }}" }
  - id: after
    needs: [signed]
    uses: test.count
    with: { tag: "timed out: ${{ steps.signed.outputs.timed_out }}" }
)");
    runtime::StartRequest fail, go_on;
    fail.inputs = {{"on_timeout", "fail"}};
    go_on.inputs = {{"on_timeout", "continue"}};
    auto failed = f.engine->start(def, fail);
    auto continued = f.engine->start(def, go_on);
    REQUIRE(f.finished(failed.run_id));
    REQUIRE(f.finished(continued.run_id));
    CHECK(f.run_status(failed.run_id) == "failed");
    CHECK(f.text("SELECT error FROM workflow_runs WHERE id = '" + failed.run_id + "'")
              .find("no 'contract.signed' event with key 'c-1' arrived within 1s") !=
          std::string::npos);
    CHECK(f.run_status(continued.run_id) == "succeeded");
    CHECK(tag_of(f, continued.run_id, "after") == "timed out: true");
    CHECK(f.scalar("SELECT count(*) FROM run_waits WHERE outcome = 'timeout'") == 2);
    // An event after the timeout changes nothing.
    CHECK(f.engine->emit_event("contract.signed", "c-1", nlohmann::json::object()).resumed == 0);
}
