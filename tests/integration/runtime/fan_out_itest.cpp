// for_each fan-outs against real PostgreSQL and Redis, with real worker processes: inline
// lists and collection handles, max_parallel windows, per-item retry and on_error, crash
// recovery, retry of a failed fan-out, and 100,000 items in bounded memory.
#include <doctest/doctest.h>
#include <signal.h>

#include <random>
#include <thread>

#include "tests/integration/runtime/runtime_fixture.hpp"

using namespace artistsaid;
using namespace std::chrono_literals;
using test::eventually;
using Fixture = test::RuntimeFixture;

TEST_CASE("Runtime.ForEach.InlineItemsRunOncePerItemAndAggregate") {
    Fixture f;
    f.workers.push_back(f.start_worker({"concurrency=8"}));
    auto def = f.workflow(R"(
name: fan-inline
inputs:
  clients: { type: array }
steps:
  - id: charge
    for_each: "${{ inputs.clients }}"
    max_parallel: 2
    uses: test.count
    with: { tag: "${{ item.name }}#${{ index }}", sleep_ms: 20 }
  - id: report
    needs: [charge]
    uses: test.count
    with:
      tag: "charged ${{ steps.charge.outputs.succeeded_count }} of ${{ steps.charge.outputs.count }}"
)");
    runtime::StartRequest req;
    req.inputs = {{"clients", nlohmann::json::array({{{"name", "ada"}}, {{"name", "bob"}},
                                                     {{"name", "cy"}}, {{"name", "di"}},
                                                     {{"name", "ed"}}})}};
    auto run = f.engine->start(def, req);
    REQUIRE(f.finished(run.run_id));
    CHECK(f.run_status(run.run_id) == "succeeded");
    auto out = f.step_outputs(run.run_id, "charge");
    CHECK(out["count"] == 5);
    CHECK(out["succeeded_count"] == 5);
    CHECK(out["failed_count"] == 0);
    CHECK(out["skipped_count"] == 0);
    CHECK(out["results"] == nlohmann::json::array({{{"tag", "ada#0"}}, {{"tag", "bob#1"}},
                                                   {{"tag", "cy#2"}}, {{"tag", "di#3"}},
                                                   {{"tag", "ed#4"}}}));
    // One effect per item, keyed run:step:index.
    for (int i = 0; i < 5; ++i)
        CHECK(f.scalar("SELECT count(*) FROM step_effects WHERE idempotency_key = '" +
                       run.run_id + ":charge:" + std::to_string(i) + "'") == 1);
    CHECK(f.text("SELECT result->>'tag' FROM step_effects WHERE idempotency_key = '" +
                 run.run_id + ":report'") == "charged 5 of 5");
}

TEST_CASE("Runtime.ForEach.MaxParallelBoundsRunningItemsAndRows") {
    Fixture f;
    f.workers.push_back(f.start_worker({"concurrency=12"}));
    auto def = f.workflow(R"(
name: fan-window
steps:
  - id: range
    uses: collection.range
    with: { count: 1500 }
  - id: fan
    needs: [range]
    for_each: "${{ steps.range.outputs.items }}"
    max_parallel: 3
    uses: test.slot
    with: { name: fan, sleep_ms: 1 }
  - id: again
    needs: [fan]
    for_each: "${{ steps.fan.outputs.results }}"
    max_parallel: 16
    uses: test.maybe_fail
    with: { fail: false, value: "${{ item.index * 2 }}" }
)");
    auto run = f.engine->start(def, {});
    // While it runs, no more than max_parallel unfinished item rows exist at any time.
    long long most_live = 0;
    auto deadline = std::chrono::steady_clock::now() + 120s;
    while (std::chrono::steady_clock::now() < deadline) {
        most_live = std::max(most_live, f.scalar("SELECT count(*) FROM step_runs WHERE step_id = "
                                                 "'fan' AND item_index >= 0 AND status IN "
                                                 "('queued', 'running', 'retrying', 'waiting')"));
        auto s = f.run_status(run.run_id);
        if (s != "running") break;
        std::this_thread::sleep_for(10ms);
    }
    REQUIRE(f.finished(run.run_id));
    CHECK(f.run_status(run.run_id) == "succeeded");
    MESSAGE("most unfinished item rows seen: " << most_live << "; most items running at once: "
                                               << f.scalar("SELECT peak FROM test_slots"));
    CHECK(most_live <= 3);
    CHECK(f.scalar("SELECT peak FROM test_slots WHERE name = 'fan'") <= 3);
    CHECK(f.scalar("SELECT count(*) FROM step_runs WHERE step_id = 'fan' AND item_index >= 0") ==
          1500);
    auto out = f.step_outputs(run.run_id, "fan");
    CHECK(out["succeeded_count"] == 1500);
    // More than kMaxInlineResults items: `results` is a handle, and a later for_each
    // streams over it.
    CHECK(out["results"] == nlohmann::json{{"$step_outputs", {{"step", "fan"}}}});
    auto again = f.step_outputs(run.run_id, "again");
    CHECK(again["count"] == 1500);
    CHECK(again["succeeded_count"] == 1500);
    CHECK(f.scalar("SELECT sum((outputs->>'value')::bigint) FROM step_runs WHERE step_id = "
                   "'again' AND item_index >= 0") == 1499LL * 1500);
}

TEST_CASE("Runtime.ForEach.ItemFailuresFollowRetryAndOnError") {
    Fixture f;
    f.workers.push_back(f.start_worker({"concurrency=8"}));
    SUBCASE("continue: failed items are counted and the run goes on") {
        auto def = f.workflow(R"(
name: fan-continue
steps:
  - id: fan
    for_each: [true, false, true, false, false]
    uses: test.maybe_fail
    with: { fail: "${{ item }}" }
    on_error: continue
  - id: after
    needs: [fan]
    uses: test.count
    with: { tag: "failed ${{ steps.fan.outputs.failed_count }}" }
)");
        auto run = f.engine->start(def, {});
        REQUIRE(f.finished(run.run_id));
        CHECK(f.run_status(run.run_id) == "succeeded");
        CHECK(f.step_statuses(run.run_id)["fan"] == "continued");
        auto out = f.step_outputs(run.run_id, "fan");
        CHECK(out["failed_count"] == 2);
        CHECK(out["succeeded_count"] == 3);
        CHECK(out["results"][0].is_null());
        CHECK(f.text("SELECT result->>'tag' FROM step_effects") == "failed 2");
    }
    SUBCASE("retry: each item gets the step's attempts") {
        auto def = f.workflow(R"(
name: fan-retry
steps:
  - id: fan
    for_each: [a, b, c, d]
    uses: test.flaky
    with: { failures: 1 }
    retry: { attempts: 2, delay: 100ms }
)");
        auto run = f.engine->start(def, {});
        REQUIRE(f.finished(run.run_id));
        CHECK(f.run_status(run.run_id) == "succeeded");
        CHECK(f.scalar("SELECT count(*) FROM step_runs WHERE item_index >= 0 AND attempt = 2 "
                       "AND status = 'succeeded'") == 4);
        CHECK(f.scalar("SELECT count(*) FROM run_event_log WHERE kind = 'step.retrying'") == 4);
    }
    SUBCASE("fail: the first failure stops the fan-out and the run") {
        auto def = f.workflow(R"(
name: fan-fail
steps:
  - id: fan
    for_each: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    max_parallel: 1
    uses: test.maybe_fail
    with: { fail: "${{ item == 3 }}" }
  - id: after
    needs: [fan]
    uses: test.count
    with: { tag: never }
)");
        auto run = f.engine->start(def, {});
        REQUIRE(f.finished(run.run_id));
        CHECK(f.run_status(run.run_id) == "failed");
        auto steps = f.step_statuses(run.run_id);
        CHECK(steps["fan"] == "failed");
        CHECK(steps["after"] == "cancelled");
        auto out = f.step_outputs(run.run_id, "fan");
        CHECK(out["succeeded_count"] == 3);
        CHECK(out["failed_count"] == 1);
        CHECK(out["skipped_count"] == 6);
        CHECK(f.scalar("SELECT count(*) FROM step_runs WHERE item_index >= 0") == 4);
        CHECK(f.text("SELECT error FROM workflow_runs").find("item 3: failed on purpose") !=
              std::string::npos);
        CHECK(f.text("SELECT failed_step FROM workflow_runs") == "fan");
    }
}

TEST_CASE("Runtime.ForEach.CollectionHandleFromAQuery") {
    Fixture f;
    f.workers.push_back(f.start_worker({"concurrency=4"}));
    auto def = f.workflow(R"(
name: fan-collection
steps:
  - id: make
    uses: test.collection
    with: { count: 50 }
  - id: fan
    needs: [make]
    for_each: "${{ steps.make.outputs.items }}"
    uses: test.count
    with: { tag: "n=${{ item.n }}" }
)");
    auto run = f.engine->start(def, {});
    REQUIRE(f.finished(run.run_id));
    CHECK(f.run_status(run.run_id) == "succeeded");
    CHECK(f.scalar("SELECT count(*) FROM step_effects") == 50);
    CHECK(f.text("SELECT result->>'tag' FROM step_effects WHERE idempotency_key = '" + run.run_id +
                 ":fan:49'") == "n=49");
    CHECK(f.step_outputs(run.run_id, "fan")["count"] == 50);

    // A bad collection fails the step with a clear error, not the worker.
    auto bad = f.workflow(R"(
name: fan-bad
inputs:
  things: { type: object }
steps:
  - id: fan
    for_each: "${{ inputs.things.list }}"
    uses: test.count
    with: { tag: x }
)");
    runtime::StartRequest req;
    req.inputs = {{"things", {{"list", {{"$range", {{"count", -1}}}}}}}};
    auto second = f.engine->start(bad, req);
    REQUIRE(f.finished(second.run_id));
    CHECK(f.run_status(second.run_id) == "failed");
    CHECK(f.text("SELECT error FROM step_runs WHERE step_id = 'fan' AND item_index = -1 AND "
                 "run_id = '" + second.run_id + "'")
              .find("$range needs a count") != std::string::npos);
}

TEST_CASE("Runtime.ForEach.RetryRunsOnlyTheItemsThatDidNotSucceed") {
    Fixture f;
    f.workers.push_back(f.start_worker({"concurrency=8"}));
    f.exec("INSERT INTO test_gates SELECT 'g' || i FROM generate_series(0, 9) i WHERE i <> 5");
    auto def = f.workflow(R"(
name: fan-gates
steps:
  - id: fan
    for_each: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    max_parallel: 10
    uses: test.gate
    with: { name: "g${{ item }}" }
)");
    auto run = f.engine->start(def, {});
    REQUIRE(f.finished(run.run_id));
    CHECK(f.run_status(run.run_id) == "failed");
    f.exec("INSERT INTO test_gates VALUES ('g5')");
    f.engine->retry(run.run_id);
    REQUIRE(eventually([&] { return f.run_status(run.run_id) == "succeeded"; }, 30s));
    auto out = f.step_outputs(run.run_id, "fan");
    CHECK(out["succeeded_count"] == 10);
    CHECK(f.scalar("SELECT count(*) FROM test_executions WHERE idempotency_key = '" + run.run_id +
                   ":fan:5'") == 2);
    // Items that had succeeded were not executed again.
    CHECK(f.scalar("SELECT count(*) FROM test_executions") == 11);
}

TEST_CASE("Runtime.ForEach.SigkillDuringAFanOutEveryItemOnce") {
    Fixture f;
    const std::vector<std::string> args{"concurrency=8", "lease_ms=1000", "reconcile_ms=1000"};
    for (int i = 0; i < 2; ++i) f.workers.push_back(f.start_worker(args));
    auto def = f.workflow(R"(
name: fan-crash
steps:
  - id: fan
    for_each: "${{ steps.range.outputs.items }}"
    needs: [range]
    max_parallel: 16
    uses: test.count
    with: { tag: "item ${{ item }}", sleep_ms: 15 }
  - id: range
    uses: collection.range
    with: { count: 1000, start: 1000 }
)");
    auto run = f.engine->start(def, {});
    std::mt19937 rng(7);
    int kills = 0;
    while (kills < 4 && f.run_status(run.run_id) == "running") {
        std::this_thread::sleep_for(std::chrono::milliseconds(150 + rng() % 200));
        auto& victim = f.workers[rng() % f.workers.size()];
        victim->signal(SIGKILL);
        victim->wait(5s);
        victim = f.start_worker(args);
        ++kills;
    }
    REQUIRE(f.finished(run.run_id, 300s));
    CHECK(f.run_status(run.run_id) == "succeeded");
    auto effects = f.scalar("SELECT count(*) FROM step_effects");
    auto executions = f.scalar("SELECT count(*) FROM test_executions");
    MESSAGE("1000 items, " << kills << " SIGKILLs: " << effects << " effects, " << executions
                          << " executions");
    CHECK(effects == 1000);
    CHECK(f.scalar("SELECT count(DISTINCT idempotency_key) FROM test_executions") == 1000);
    CHECK(f.text("SELECT result->>'tag' FROM step_effects WHERE idempotency_key = '" + run.run_id +
                 ":fan:999'") == "item 1999");
    CHECK(f.step_outputs(run.run_id, "fan")["succeeded_count"] == 1000);
}

TEST_CASE("Runtime.ForEach.HundredThousandItemsInBoundedMemory") {
    Fixture f;
    f.workers.push_back(f.start_worker({"concurrency=8"}));
    std::this_thread::sleep_for(500ms);  // connected and idle
    const long idle_kib = test::proc_status_kib(f.workers[0]->pid(), "VmRSS");
    auto def = f.workflow(R"(
name: fan-100k
steps:
  - id: range
    uses: collection.range
    with: { count: 100000 }
  - id: fan
    needs: [range]
    for_each: "${{ steps.range.outputs.items }}"
    max_parallel: 64
    uses: log
    with: { message: "item ${{ item }}", level: debug }
)");
    auto started = std::chrono::steady_clock::now();
    auto run = f.engine->start(def, {});
    REQUIRE(f.finished(run.run_id, 900s));  // a bound, not a performance check
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    long peak_kib = test::proc_status_kib(f.workers[0]->pid(), "VmHWM");
    MESSAGE("100,000 items in " << seconds << " s (" << static_cast<long>(100000 / seconds)
                                << " items/s); worker RSS at start " << idle_kib
                                << " KiB, peak (VmHWM) " << peak_kib << " KiB");
    CHECK(f.run_status(run.run_id) == "succeeded");
    auto out = f.step_outputs(run.run_id, "fan");
    CHECK(out["succeeded_count"] == 100000);
    CHECK(f.scalar("SELECT count(*) FROM step_runs WHERE item_index >= 0 AND status = "
                   "'succeeded'") == 100000);
    // Memory does not grow with the number of items: the worker holds a window of 64.
    CHECK(peak_kib > 0);
    CHECK(peak_kib < idle_kib + 64 * 1024);
}
