// The durable run-time against real PostgreSQL and Redis, with real worker processes.
#include <doctest/doctest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <pqxx/pqxx>
#include <random>
#include <thread>

#include "engine/core/error.hpp"
#include "tests/integration/runtime/runtime_fixture.hpp"

using namespace artistsaid;
using namespace std::chrono_literals;
using test::ChildProcess;
using test::eventually;

namespace {

using Fixture = test::RuntimeFixture;

const char* kDiamond = R"(
name: diamond
version: 1
inputs:
  who: { type: string, default: world }
steps:
  - id: greet
    uses: test.count
    with: { tag: "hello ${{ inputs.who }}" }
  - id: left
    needs: [greet]
    uses: test.count
    with: { tag: "left after ${{ steps.greet.outputs.tag }}" }
  - id: right
    needs: [greet]
    if: "${{ inputs.who == 'nobody' }}"
    uses: test.count
    with: { tag: right }
  - id: join
    needs: [left, right]
    uses: test.count
    with: { tag: "join ${{ steps.left.outputs.tag }}" }
)";

}  // namespace

TEST_CASE("Runtime.Dag.BranchesSkipsAndOutputsFlowDownstream") {
    Fixture f;
    f.workers.push_back(f.start_worker());
    auto def = f.workflow(kDiamond);
    runtime::StartRequest req;
    req.inputs = {{"who", "Ada"}};
    auto run = f.engine->start(def, req);
    REQUIRE(f.finished(run.run_id));
    CHECK(f.run_status(run.run_id) == "succeeded");
    auto steps = f.step_statuses(run.run_id);
    CHECK(steps["greet"] == "succeeded");
    CHECK(steps["left"] == "succeeded");
    CHECK(steps["right"] == "skipped");   // its `if` was false…
    CHECK(steps["join"] == "succeeded");  // …and a skipped need is satisfied
    pqxx::connection c(f.db.url());
    pqxx::read_transaction tx(c);
    auto tag = tx.exec_params1(
        "SELECT result->>'tag' FROM step_effects WHERE idempotency_key = $1",
        run.run_id + ":join")[0].as<std::string>();
    CHECK(tag == "join left after hello Ada");
    CHECK(tx.exec_params1("SELECT count(*) FROM run_event_log WHERE run_id = $1::uuid AND kind = "
                          "'run.succeeded'", run.run_id)[0].as<int>() == 1);
}

TEST_CASE("Runtime.Inputs.BadInputIsRefusedAndWritesNothing") {
    Fixture f;
    auto def = f.workflow(kDiamond);
    runtime::StartRequest req;
    req.inputs = {{"whom", "Ada"}};
    CHECK_THROWS_AS(f.engine->start(def, req), InputError);
    CHECK(f.scalar("SELECT count(*) FROM workflow_runs") == 0);
}

TEST_CASE("Runtime.Retry.StepPolicyRetriesWithBackoff") {
    Fixture f;
    f.workers.push_back(f.start_worker());
    auto def = f.workflow(R"(
name: flaky
steps:
  - id: charge
    uses: test.flaky
    with: { failures: 2 }
    retry: { attempts: 3, backoff: exponential, delay: 200ms }
)");
    auto run = f.engine->start(def, {});
    REQUIRE(f.finished(run.run_id));
    CHECK(f.run_status(run.run_id) == "succeeded");
    CHECK(f.scalar("SELECT attempt FROM step_runs WHERE step_id = 'charge'") == 3);
    CHECK(f.scalar("SELECT count(*) FROM run_event_log WHERE kind = 'step.retrying'") == 2);
    // Backoff: 200 ms then 400 ms, each at least half that with jitter.
    auto took_ms = f.scalar(
        "SELECT (extract(epoch FROM finished_at - started_at) * 1000)::bigint FROM step_runs");
    CHECK(took_ms >= 300);
}

TEST_CASE("Runtime.Errors.ContinueFailAndRetryFromTheFailedStep") {
    Fixture f;
    f.workers.push_back(f.start_worker());
    auto def = f.workflow(R"(
name: gated
steps:
  - id: optional
    uses: test.flaky
    with: { failures: 5 }
    on_error: continue
  - id: gate
    needs: [optional]
    uses: test.gate
    with: { name: payouts }
  - id: after
    needs: [gate]
    uses: test.count
    with: { tag: after }
)");
    auto run = f.engine->start(def, {});
    REQUIRE(f.finished(run.run_id));
    CHECK(f.run_status(run.run_id) == "failed");
    auto steps = f.step_statuses(run.run_id);
    CHECK(steps["optional"] == "continued");
    CHECK(steps["gate"] == "failed");
    CHECK(steps["after"] == "cancelled");

    {
        pqxx::connection c(f.db.url());
        pqxx::work tx(c);
        tx.exec0("INSERT INTO test_gates VALUES ('payouts')");
        tx.commit();
    }
    f.engine->retry(run.run_id);
    REQUIRE(eventually([&] { return f.run_status(run.run_id) == "succeeded"; }, 30s));
    steps = f.step_statuses(run.run_id);
    CHECK(steps["optional"] == "continued");  // not run again
    CHECK(steps["after"] == "succeeded");
    CHECK_THROWS_AS(f.engine->retry(run.run_id), InputError);  // only failed runs
}

TEST_CASE("Runtime.Wait.DurableTimerAndCancel") {
    Fixture f;
    f.workers.push_back(f.start_worker());
    auto def = f.workflow(R"(
name: timer
inputs:
  at: { type: datetime }
steps:
  - id: pause
    uses: wait.until
    with: { at: "${{ inputs.at }}" }
  - id: after
    needs: [pause]
    uses: test.count
    with: { tag: woke }
)");
    auto at = std::chrono::system_clock::now() + 4s;
    std::time_t secs = std::chrono::system_clock::to_time_t(at);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    runtime::StartRequest req;
    req.inputs = {{"at", text}};
    auto run = f.engine->start(def, req);
    REQUIRE(eventually([&] { return f.step_statuses(run.run_id)["pause"] == "waiting"; }, 10s));
    // Kill the only worker while the step waits: the timer lives in PostgreSQL and Redis.
    f.workers[0]->signal(SIGKILL);
    f.workers[0]->wait(5s);
    f.workers[0] = f.start_worker();
    REQUIRE(f.finished(run.run_id, 30s));
    CHECK(f.run_status(run.run_id) == "succeeded");
    CHECK(std::chrono::system_clock::now() >= std::chrono::system_clock::from_time_t(secs));

    req.inputs = {{"at", "2099-01-01T00:00:00Z"}};
    auto second = f.engine->start(def, req);
    REQUIRE(eventually([&] { return f.step_statuses(second.run_id)["pause"] == "waiting"; }, 10s));
    CHECK(f.engine->cancel(second.run_id));
    CHECK(f.run_status(second.run_id) == "cancelled");
    CHECK(f.step_statuses(second.run_id)["pause"] == "cancelled");
    CHECK_FALSE(f.engine->cancel(second.run_id));
}

TEST_CASE("Runtime.Versioning.ARunKeepsItsDefinition") {
    Fixture f;
    auto v1 = f.workflow(R"(
name: versioned
version: 1
steps:
  - id: only
    uses: test.count
    with: { tag: v1 }
)");
    auto run = f.engine->start(v1, {});  // no worker yet: the run waits in the queue
    auto v2 = f.workflow(R"(
name: versioned
version: 2
steps:
  - id: only
    uses: test.count
    with: { tag: v2 }
)");
    (void)v2;  // the YAML changed; the run above must not notice
    f.workers.push_back(f.start_worker());
    REQUIRE(f.finished(run.run_id));
    pqxx::connection c(f.db.url());
    pqxx::read_transaction tx(c);
    CHECK(tx.exec1("SELECT result->>'tag' FROM step_effects")[0].as<std::string>() == "v1");
    CHECK(tx.exec1("SELECT workflow_version FROM workflow_runs")[0].as<int>() == 1);
}

TEST_CASE("Runtime.Reconcile.RedisLosingEverythingOnlyDelaysRuns") {
    Fixture f;
    auto def = f.workflow(R"(
name: chain
steps:
  - id: a
    uses: test.count
    with: { tag: a, sleep_ms: 50 }
  - id: b
    needs: [a]
    uses: test.count
    with: { tag: b, sleep_ms: 50 }
  - id: c
    needs: [b]
    uses: test.count
    with: { tag: c }
)");
    std::vector<std::string> runs;
    for (int i = 0; i < 30; ++i) runs.push_back(f.engine->start(def, {}).run_id);
    f.workers.push_back(f.start_worker({"concurrency=4", "reconcile_ms=500"}));
    std::this_thread::sleep_for(300ms);
    // Everything this test has in Redis disappears (as with FLUSHALL, limited to our prefix
    // so the other tests sharing this Redis are not disturbed).
    {
        test::RedisPrefixGuard* g = &f.guard;
        auto conn = test::redis_connection();
        for (const std::string& pattern : {"{" + g->prefix() + ":*", g->prefix() + ":*"}) {
            auto keys = conn.command({"KEYS", pattern});
            std::vector<std::string> del{"DEL"};
            for (size_t i = 0; i < keys.view().size(); ++i) del.push_back(keys.view()[i].string());
            if (del.size() > 1) conn.command(del);
        }
    }
    for (const auto& id : runs) REQUIRE(f.finished(id, 60s));
    for (const auto& id : runs) CHECK(f.run_status(id) == "succeeded");
    CHECK(f.scalar("SELECT count(*) FROM step_effects") == 90);
}

TEST_CASE("Runtime.Crash.SigkillDuring200RunsEveryEffectExactlyOnce") {
    Fixture f;
    auto def = f.workflow(R"(
name: three
steps:
  - id: invoice
    uses: test.count
    with: { tag: invoice, sleep_ms: 150 }
  - id: charge
    needs: [invoice]
    uses: test.count
    with: { tag: charge, sleep_ms: 150 }
  - id: receipt
    needs: [charge]
    uses: test.count
    with: { tag: receipt, sleep_ms: 150 }
)");
    const std::vector<std::string> args{"concurrency=8", "lease_ms=1000", "reconcile_ms=2000"};
    for (int i = 0; i < 3; ++i) f.workers.push_back(f.start_worker(args));
    std::vector<std::string> runs;
    for (int i = 0; i < 200; ++i) runs.push_back(f.engine->start(def, {}).run_id);
    std::mt19937 rng(42);
    int kills = 0;
    auto all_done = [&] {
        return f.scalar("SELECT count(*) FROM workflow_runs WHERE status = 'running'") == 0;
    };
    auto deadline = std::chrono::steady_clock::now() + 120s;
    while (!all_done() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(150 + rng() % 250));
        if (kills < 8 && !all_done()) {
            auto& victim = f.workers[rng() % f.workers.size()];
            victim->signal(SIGKILL);
            victim->wait(5s);
            victim = f.start_worker(args);
            ++kills;
        }
    }
    REQUIRE(all_done());
    CHECK(f.scalar("SELECT count(*) FROM workflow_runs WHERE status = 'succeeded'") == 200);
    auto effects = f.scalar("SELECT count(*) FROM step_effects");
    auto executions = f.scalar("SELECT count(*) FROM test_executions");
    MESSAGE("200 runs x 3 steps, " << kills << " SIGKILLs: " << effects << " effects, "
                                   << executions << " executions ("
                                   << executions - effects << " re-executions deduplicated)");
    CHECK(effects == 600);  // each step's effect exactly once
    CHECK(f.scalar("SELECT count(DISTINCT idempotency_key) FROM test_executions") == 600);
    CHECK(kills >= 3);
}
