// Per-key concurrency against real PostgreSQL and Redis, with real workers: runs beyond a
// key's limit are created `pending` and start oldest first when a slot frees — handed over
// in the transaction that ends a run, without polling (these workers do not reconcile).
#include <doctest/doctest.h>

#include "tests/integration/runtime/runtime_fixture.hpp"

using namespace artistsaid;
using namespace std::chrono_literals;
using test::eventually;
using Fixture = test::RuntimeFixture;

TEST_CASE("Runtime.Concurrency.RunsBeyondTheLimitWaitAndStartInOrder") {
    Fixture f;
    f.workers.push_back(f.start_worker({"concurrency=8"}));
    auto def = f.workflow(R"(
name: per-client
inputs:
  client: { type: string }
  n: { type: integer }
concurrency: { key: "client-${{ inputs.client }}", limit: 2 }
steps:
  - id: work
    uses: test.slot
    with: { name: "${{ inputs.client }}", sleep_ms: 200 }
  - id: record
    needs: [work]
    uses: test.count
    with: { tag: "${{ inputs.client }}${{ inputs.n }}" }
)");
    std::vector<runtime::StartedRun> a, b;
    for (int n = 0; n < 6; ++n) {
        runtime::StartRequest req;
        req.inputs = {{"client", "A"}, {"n", n}};
        a.push_back(f.engine->start(def, req));
    }
    for (int n = 0; n < 2; ++n) {
        runtime::StartRequest req;
        req.inputs = {{"client", "B"}, {"n", n}};
        b.push_back(f.engine->start(def, req));
    }
    // The first two of each key start; the other four of A wait.
    for (int n = 0; n < 6; ++n) CHECK(a[n].pending == (n >= 2));
    for (const auto& r : b) CHECK_FALSE(r.pending);
    CHECK(f.run_status(a[5].run_id) == "pending");
    CHECK(f.text("SELECT concurrency_key FROM workflow_runs WHERE id = '" + a[5].run_id + "'") ==
          "client-A");

    for (const auto& r : a) REQUIRE(f.finished(r.run_id, 30s));
    for (const auto& r : b) REQUIRE(f.finished(r.run_id, 30s));
    CHECK(f.scalar("SELECT count(*) FROM workflow_runs WHERE status = 'succeeded'") == 8);
    CHECK(f.scalar("SELECT peak FROM test_slots WHERE name = 'A'") == 2);
    // FIFO: pending runs start in the order they were created. With two slots, two runs
    // can be started by two concurrent transactions, and started_at is each transaction's
    // start time, so neighbours may tie or swap by microseconds; a run two places later
    // needs a slot that one of them frees, so it always starts later.
    auto started = [&](const std::string& id) {
        return f.text("SELECT to_char(started_at, 'HH24:MI:SS.US') FROM workflow_runs WHERE id = '" +
                      id + "'");
    };
    for (int n = 2; n < 4; ++n) CHECK(started(a[n].run_id) < started(a[n + 2].run_id));
    CHECK(f.scalar("SELECT count(*) FROM run_event_log WHERE kind = 'run.pending'") == 4);
}

TEST_CASE("Runtime.Concurrency.CancellingFreesTheSlot") {
    Fixture f;
    f.workers.push_back(f.start_worker({"concurrency=4"}));
    auto def = f.workflow(R"(
name: nightly
inputs:
  at: { type: datetime }
concurrency: nightly-report
steps:
  - id: pause
    uses: wait.until
    with: { at: "${{ inputs.at }}" }
)");
    runtime::StartRequest forever;
    forever.inputs = {{"at", "2099-01-01T00:00:00Z"}};
    auto first = f.engine->start(def, forever);
    auto second = f.engine->start(def, forever);
    auto third = f.engine->start(def, forever);
    CHECK(second.pending);
    CHECK(third.pending);
    REQUIRE(eventually([&] { return f.step_statuses(first.run_id)["pause"] == "waiting"; }, 10s));
    // A pending run cancelled gives up its place; the running one's slot goes to the next.
    CHECK(f.engine->cancel(second.run_id));
    CHECK(f.run_status(second.run_id) == "cancelled");
    CHECK(f.run_status(third.run_id) == "pending");
    CHECK(f.engine->cancel(first.run_id));
    CHECK(f.run_status(first.run_id) == "cancelled");
    REQUIRE(eventually([&] { return f.step_statuses(third.run_id)["pause"] == "waiting"; }, 10s));
    CHECK(f.run_status(third.run_id) == "running");
    CHECK(f.engine->cancel(third.run_id));
}
