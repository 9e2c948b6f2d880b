// Compensation and on_failure steps against real PostgreSQL and Redis, with real workers:
// on failure the compensations of completed steps run once each, in reverse completion
// order, then the on_failure steps; cancelling runs the compensations too.
#include <doctest/doctest.h>

#include <thread>

#include "tests/integration/runtime/runtime_fixture.hpp"

using namespace artistsaid;
using namespace std::chrono_literals;
using test::eventually;
using Fixture = test::RuntimeFixture;

namespace {

// The idempotency keys of test.count executions, in the order they ran.
std::vector<std::string> executions(Fixture& f, const std::string& run_id) {
    pqxx::connection c(f.db.url());
    pqxx::read_transaction tx(c);
    std::vector<std::string> out;
    for (const auto& r : tx.exec_params(
             "SELECT substr(idempotency_key, length($1) + 2) FROM test_executions "
             "WHERE idempotency_key LIKE $1 || ':%' ORDER BY n",
             run_id))
        out.push_back(r[0].as<std::string>());
    return out;
}

}  // namespace

TEST_CASE("Runtime.Compensation.ReverseCompletionOrderThenOnFailure") {
    Fixture f;
    f.workers.push_back(f.start_worker({"concurrency=4"}));
    auto def = f.workflow(R"(
name: saga
steps:
  - id: reserve
    uses: test.count
    with: { tag: reserve }
    compensate:
      uses: test.count
      with: { tag: "undo ${{ steps.reserve.outputs.tag }}" }
  - id: charge
    needs: [reserve]
    uses: test.count
    with: { tag: charge, sleep_ms: 100 }
    compensate:
      uses: test.count
      with: { tag: "undo ${{ steps.charge.outputs.tag }}" }
  - id: notify
    needs: [reserve]
    uses: test.count
    with: { tag: notify }
  - id: ship
    needs: [charge, notify]
    uses: fail
    with: { message: carrier down }
on_failure:
  - id: alert
    uses: test.count
    with: { tag: "alert ${{ run.failed_step }}: ${{ run.error }}" }
  - id: page
    needs: [alert]
    uses: test.count
    with: { tag: "paged after ${{ steps.alert.outputs.tag }}; charge ${{ steps.charge.status }}" }
)");
    auto run = f.engine->start(def, {});
    REQUIRE(f.finished(run.run_id));
    CHECK(f.run_status(run.run_id) == "failed");
    // charge finished after reserve (and after notify), so it is undone first; notify has
    // no compensation; each compensation ran once.
    auto order = executions(f, run.run_id);
    REQUIRE(order.size() == 7);
    CHECK(order[0] == "reserve");
    CHECK(order[3] == "compensate:charge");
    CHECK(order[4] == "compensate:reserve");
    CHECK(order[5] == "alert");
    CHECK(order[6] == "page");
    CHECK(f.text("SELECT result->>'tag' FROM step_effects WHERE idempotency_key = '" + run.run_id +
                 ":compensate:charge'") == "undo charge");
    auto steps = f.step_statuses(run.run_id);
    CHECK(steps["reserve"] == "compensated");
    CHECK(steps["charge"] == "compensated");
    CHECK(steps["notify"] == "succeeded");
    CHECK(steps["ship"] == "failed");
    CHECK(steps["compensate:charge"] == "succeeded");
    CHECK(steps["alert"] == "succeeded");
    CHECK(f.text("SELECT result->>'tag' FROM step_effects WHERE idempotency_key = '" + run.run_id +
                 ":alert'") == "alert ship: step ship failed: carrier down");
    CHECK(f.text("SELECT result->>'tag' FROM step_effects WHERE idempotency_key = '" + run.run_id +
                 ":page'") ==
          "paged after alert ship: step ship failed: carrier down; charge compensated");
    CHECK(f.text("SELECT failed_step FROM workflow_runs") == "ship");
    CHECK(f.scalar("SELECT count(*) FROM run_event_log WHERE kind = 'run.failing'") == 1);
    // A run whose steps were undone is not retried in place.
    CHECK_THROWS_AS(f.engine->retry(run.run_id), InputError);
}

TEST_CASE("Runtime.Compensation.FanOutItemsAreUndoneOneByOne") {
    Fixture f;
    f.workers.push_back(f.start_worker({"concurrency=4"}));
    auto def = f.workflow(R"yaml(
name: saga-fan
steps:
  - id: book
    for_each: [a, b, c, d]
    uses: test.count
    with: { tag: "book ${{ item }}" }
    compensate:
      uses: test.count
      with: { tag: "cancel ${{ item }} #${{ index }} (${{ steps.book.outputs.tag }})" }
  - id: pay
    needs: [book]
    uses: test.maybe_fail
    with: { fail: true }
    compensate:
      uses: test.count
      with: { tag: never }
)yaml");
    auto run = f.engine->start(def, {});
    REQUIRE(f.finished(run.run_id));
    CHECK(f.run_status(run.run_id) == "failed");
    auto order = executions(f, run.run_id);
    REQUIRE(order.size() == 8);
    // Items are undone in reverse index order, one at a time; pay never completed, so it
    // is not compensated.
    CHECK(order[4] == "compensate:book:3");
    CHECK(order[5] == "compensate:book:2");
    CHECK(order[6] == "compensate:book:1");
    CHECK(order[7] == "compensate:book:0");
    CHECK(f.text("SELECT result->>'tag' FROM step_effects WHERE idempotency_key = '" + run.run_id +
                 ":compensate:book:2'") == "cancel c #2 (book c)");
    CHECK(f.step_statuses(run.run_id)["compensate:book"] == "succeeded");
    CHECK(f.scalar("SELECT count(*) FROM step_runs WHERE step_id = 'book' AND item_index >= 0 "
                   "AND status = 'compensated'") == 4);
}

TEST_CASE("Runtime.Compensation.CancellingRunsCompensationsButNotOnFailure") {
    Fixture f;
    f.workers.push_back(f.start_worker({"concurrency=4"}));
    auto def = f.workflow(R"(
name: saga-cancel
steps:
  - id: reserve
    uses: test.count
    with: { tag: reserve }
    compensate:
      uses: test.count
      with: { tag: release }
  - id: pause
    needs: [reserve]
    uses: wait.until
    with: { at: "2099-01-01T00:00:00Z" }
on_failure:
  - id: alert
    uses: test.count
    with: { tag: alert }
)");
    auto run = f.engine->start(def, {});
    REQUIRE(eventually([&] { return f.step_statuses(run.run_id)["pause"] == "waiting"; }, 10s));
    CHECK(f.engine->cancel(run.run_id));
    REQUIRE(f.finished(run.run_id));
    CHECK(f.run_status(run.run_id) == "cancelled");
    auto order = executions(f, run.run_id);
    CHECK(order == std::vector<std::string>{"reserve", "compensate:reserve"});
    auto steps = f.step_statuses(run.run_id);
    CHECK(steps["pause"] == "cancelled");
    CHECK(steps["reserve"] == "compensated");
    CHECK(steps.count("alert") == 0);
    CHECK(f.text("SELECT error FROM workflow_runs") == "cancelled by request");
    CHECK_FALSE(f.engine->cancel(run.run_id));
}

TEST_CASE("Runtime.Compensation.AFailedCompensationIsReportedAndTheOthersStillRun") {
    Fixture f;
    f.workers.push_back(f.start_worker({"concurrency=4"}));
    auto def = f.workflow(R"(
name: saga-undo-fails
steps:
  - id: first
    uses: test.count
    with: { tag: first }
    compensate:
      uses: test.count
      with: { tag: "undo first" }
  - id: second
    needs: [first]
    uses: test.count
    with: { tag: second }
    compensate:
      uses: fail
      with: { message: refund refused }
  - id: boom
    needs: [second]
    uses: fail
    with: { message: boom }
)");
    auto run = f.engine->start(def, {});
    REQUIRE(f.finished(run.run_id));
    CHECK(f.run_status(run.run_id) == "failed");
    auto steps = f.step_statuses(run.run_id);
    CHECK(steps["compensate:second"] == "failed");
    CHECK(steps["second"] == "succeeded");   // not undone
    CHECK(steps["first"] == "compensated");  // the others still are
    auto error = f.text("SELECT error FROM workflow_runs");
    CHECK(error.find("step boom failed: boom") != std::string::npos);
    CHECK(error.find("the compensation of step second failed: refund refused") !=
          std::string::npos);
}

TEST_CASE("Runtime.Compensation.AFailureCancelsStepsThatWaitInsteadOfWaitingForThem") {
    Fixture f;
    f.workers.push_back(f.start_worker({"concurrency=4"}));
    auto def = f.workflow(R"(
name: fail-fast
steps:
  - id: signature
    uses: wait.event
    with: { event: contract.signed, key: forever }
  - id: deposit
    uses: test.count
    with: { tag: deposit, sleep_ms: 300 }
    compensate:
      uses: test.count
      with: { tag: refund }
  - id: check
    needs: [deposit]
    uses: fail
    with: { message: credit check failed }
)");
    auto run = f.engine->start(def, {});
    REQUIRE(f.finished(run.run_id, 15s));
    CHECK(f.run_status(run.run_id) == "failed");
    auto steps = f.step_statuses(run.run_id);
    CHECK(steps["signature"] == "cancelled");
    CHECK(steps["deposit"] == "compensated");
    CHECK(f.text("SELECT outcome FROM run_waits") == "cancelled");
}
