// Group commit of starts (RunEngine::start, start_all) and the write buffer that writes a
// run started with its inline steps in one statement (store::RunWriteBuffer): a run is in
// PostgreSQL before its start returns, one bad start in a batch fails alone, and the rows
// a buffered run leaves are the ones the statement-by-statement path writes.
#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "engine/core/error.hpp"
#include "tests/integration/runtime/runtime_fixture.hpp"

using namespace artistsaid;

namespace {

using Fixture = test::RuntimeFixture;

const char* kLinear5 = R"(
name: linear5
steps:
  - id: s1
    uses: log
    with: { message: "one ${{ inputs.n }}", level: debug }
  - id: s2
    needs: [s1]
    uses: log
    with: { message: two, level: debug }
  - id: s3
    needs: [s2]
    uses: log
    with: { message: three, level: debug }
  - id: s4
    needs: [s3]
    uses: log
    with: { message: four, level: debug }
  - id: s5
    needs: [s4]
    uses: log
    with: { message: five, level: debug }
inputs:
  n: { type: integer, default: 0 }
)";

const char* kFailsInline = R"(
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
)";

const char* kThenJob = R"(
name: then-job
steps:
  - id: first
    uses: log
    with: { message: before, level: debug }
  - id: job
    needs: [first]
    uses: noop
)";

// What every finished linear5 run must have in PostgreSQL, read on `c`.
void check_linear5(pqxx::connection& c, const std::string& run_id) {
    pqxx::read_transaction tx(c);
    auto run = tx.exec_params(
        "SELECT status, started_at IS NOT NULL, finished_at IS NOT NULL, outputs::text "
        "FROM workflow_runs WHERE id = $1::uuid",
        run_id);
    REQUIRE_MESSAGE(run.size() == 1, "run " << run_id << " is not in PostgreSQL");
    CHECK(run[0][0].as<std::string>() == "succeeded");
    CHECK(run[0][1].as<bool>());
    CHECK(run[0][2].as<bool>());
    auto steps = tx.exec_params1(
        "SELECT count(*) FILTER (WHERE status = 'succeeded' AND attempt = 1 AND inputs IS NOT "
        "NULL AND started_at IS NOT NULL AND finished_at IS NOT NULL), count(*) "
        "FROM step_runs WHERE run_id = $1::uuid",
        run_id);
    CHECK(steps[0].as<long long>() == 5);
    CHECK(steps[1].as<long long>() == 5);
    CHECK(tx.exec_params1("SELECT count(*) FROM run_event_log WHERE run_id = $1::uuid", run_id)[0]
              .as<long long>() == 12);
    // The run refers to its definition's shared snapshot instead of carrying a copy.
    CHECK(tx.exec_params1("SELECT definition IS NULL AND definition_id IS NOT NULL "
                          "FROM workflow_runs WHERE id = $1::uuid",
                          run_id)[0]
              .as<bool>());
}

}  // namespace

TEST_CASE("Runtime.GroupCommit.EveryConcurrentStartIsInPostgresqlWhenItReturns") {
    // One scenario at several sizes: 1, 2 and 8 threads starting runs at once.
    for (int threads : {1, 2, 8}) {
        CAPTURE(threads);
        Fixture f;  // no worker: linear5 runs inline, in the starting transaction
        const auto definition = f.workflow(kLinear5);
        const int per_thread = 25;
        std::atomic<int> checked{0};
        std::mutex failures_mutex;
        std::vector<std::string> failures;
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; ++t) {
            pool.emplace_back([&, t] {
                try {
                    pqxx::connection c(f.db.url());
                    for (int i = 0; i < per_thread; ++i) {
                        runtime::StartRequest request;
                        request.inputs = {{"n", t * 1000 + i}};
                        auto started = f.engine->start(definition, request);
                        // Acknowledged: visible from another connection at once.
                        pqxx::read_transaction tx(c);
                        auto r = tx.exec_params(
                            "SELECT status FROM workflow_runs WHERE id = $1::uuid",
                            started.run_id);
                        if (r.size() != 1 || r[0][0].as<std::string>() != "succeeded") {
                            std::lock_guard lock(failures_mutex);
                            failures.push_back(started.run_id);
                        }
                        ++checked;
                    }
                } catch (const std::exception& e) {
                    std::lock_guard lock(failures_mutex);
                    failures.push_back(e.what());
                }
            });
        }
        for (auto& t : pool) t.join();
        CHECK(failures.empty());
        CHECK(checked == threads * per_thread);
        CHECK(f.scalar("SELECT count(*) FROM workflow_runs WHERE status = 'succeeded'") ==
              threads * per_thread);
        CHECK(f.scalar("SELECT count(*) FROM step_runs WHERE status = 'succeeded'") ==
              5 * threads * per_thread);
        // Every input reached its own run once.
        CHECK(f.scalar("SELECT count(DISTINCT inputs->>'n') FROM workflow_runs") ==
              threads * per_thread);
        auto [batches, entries] = f.engine->start_batches();
        CHECK(entries == static_cast<size_t>(threads * per_thread));
        CHECK(batches >= 1);
        CHECK(batches <= entries);
        pqxx::connection c(f.db.url());
        std::vector<std::string> ids;
        {
            pqxx::read_transaction tx(c);
            for (const auto& row : tx.exec("SELECT id::text FROM workflow_runs"))
                ids.push_back(row[0].as<std::string>());
        }
        for (const auto& id : ids) check_linear5(c, id);
    }
}

TEST_CASE("Runtime.GroupCommit.ABufferedRunLeavesTheRowsOfTheStatementByStatementPath") {
    Fixture f;
    const auto definition = f.workflow(kLinear5);
    runtime::StartRequest request;
    request.inputs = {{"n", 7}};
    request.trigger_kind = "api";
    request.trigger_ref = "ref-7";
    auto run = f.engine->start(definition, request);
    pqxx::connection c(f.db.url());
    check_linear5(c, run.run_id);
    pqxx::read_transaction tx(c);
    // The run: as finish_run writes it (outputs of every step, no error, the trigger).
    auto r = tx.exec_params1(
        "SELECT outputs ? 's5', error IS NULL, trigger_kind, trigger_ref, inputs->>'n', "
        "workflow_name, workflow_version, EXISTS (SELECT 1 FROM workflow_definitions d "
        "WHERE d.id = definition_id AND d.yaml = $2), dedupe_key IS NULL, "
        "concurrency_key IS NULL, created_at = started_at, started_at = finished_at "
        "FROM workflow_runs WHERE id = $1::uuid",
        run.run_id, definition.source);
    CHECK(r[0].as<bool>());
    CHECK(r[1].as<bool>());
    CHECK(r[2].as<std::string>() == "api");
    CHECK(r[3].as<std::string>() == "ref-7");
    CHECK(r[4].as<std::string>() == "7");
    CHECK(r[5].as<std::string>() == "linear5");
    CHECK(r[6].as<int>() == 1);
    CHECK(r[7].as<bool>());
    CHECK(r[8].as<bool>());
    CHECK(r[9].as<bool>());
    CHECK(r[10].as<bool>());  // one transaction: every timestamp is its start
    CHECK(r[11].as<bool>());
    // Step inputs are the rendered `with`; idempotency keys are run:step.
    CHECK(tx.exec_params1("SELECT inputs->>'message' FROM step_runs WHERE run_id = $1::uuid "
                          "AND step_id = 's1'",
                          run.run_id)[0]
              .as<std::string>() == "one 7");
    CHECK(tx.exec_params1("SELECT count(*) FROM step_runs WHERE run_id = $1::uuid AND "
                          "idempotency_key = run_id::text || ':' || step_id AND item_index = -1 "
                          "AND error IS NULL AND next_attempt_at IS NULL",
                          run.run_id)[0]
              .as<long long>() == 5);
    // The events, in the order readers see them (run_id, created_at, id).
    std::vector<std::string> kinds;
    for (const auto& e : tx.exec_params(
             "SELECT kind, coalesce(payload->>'step', ''), step_run_id IS NOT NULL "
             "FROM run_event_log WHERE run_id = $1::uuid ORDER BY created_at, id",
             run.run_id)) {
        kinds.push_back(e[0].as<std::string>() + ":" + e[1].as<std::string>());
        CHECK(e[2].as<bool>() == (e[0].as<std::string>().rfind("step.", 0) == 0));
    }
    std::vector<std::string> expected{"run.started:"};
    for (const char* s : {"s1", "s2", "s3", "s4", "s5"}) {
        expected.push_back(std::string("step.started:") + s);
        expected.push_back(std::string("step.succeeded:") + s);
    }
    expected.push_back("run.succeeded:");
    CHECK(kinds == expected);
    CHECK(tx.exec_params1("SELECT payload::text FROM run_event_log WHERE run_id = $1::uuid AND "
                          "kind = 'run.succeeded'",
                          run.run_id)[0]
              .as<std::string>() == R"({"error": null})");
    // Stored: the 12 events are one 'batch' row (run_event_log expands it), in order.
    auto batch = tx.exec_params1(
        "SELECT count(*), min(kind), min(jsonb_array_length(payload->'events')), "
        "bool_and(step_run_id IS NULL) FROM run_events WHERE run_id = $1::uuid",
        run.run_id);
    CHECK(batch[0].as<long long>() == 1);
    CHECK(batch[1].as<std::string>() == "batch");
    CHECK(batch[2].as<long long>() == 12);
    CHECK(batch[3].as<bool>());
    // The batch payload is compressed with lz4, not pglz, when it is large enough to be
    // compressed at all (0016_run_event_compression.sql; Debian's PostgreSQL has lz4).
    CHECK(tx.exec1("SELECT attcompression FROM pg_attribute WHERE attrelid = "
                   "'run_events'::regclass AND attname = 'payload'")[0]
              .as<std::string>() == "l");
    CHECK(tx.exec_params1("SELECT coalesce(pg_column_compression(payload), 'none') FROM "
                          "run_events WHERE run_id = $1::uuid",
                          run.run_id)[0]
              .as<std::string>() != "pglz");
    // Every step event of the batch names an existing step row of the run.
    CHECK(tx.exec_params1("SELECT count(*) FROM run_event_log e JOIN step_runs s ON "
                          "s.id = e.step_run_id AND s.run_id = e.run_id WHERE e.run_id = $1::uuid",
                          run.run_id)[0]
              .as<long long>() == 10);
}

TEST_CASE("Runtime.GroupCommit.OneBadStartInABatchFailsAloneAndTheOthersCommit") {
    Fixture f;
    const auto linear = f.workflow(kLinear5);
    std::vector<runtime::StartCall> calls(4);
    for (auto& call : calls) call.definition = &linear;
    calls[0].request.inputs = {{"n", 1}};
    // PostgreSQL refuses this trigger kind (a CHECK constraint): the batch's statement
    // fails, and the batch is started again one run per transaction.
    calls[1].request.inputs = {{"n", 2}};
    calls[1].request.trigger_kind = "carrier-pigeon";
    calls[2].request.inputs = {{"n", "not a number"}};  // refused before any SQL
    calls[3].request.inputs = {{"n", 4}};
    auto outcomes = f.engine->start_all(calls);
    REQUIRE(outcomes.size() == 4);
    CHECK(!outcomes[0].error);
    CHECK(!outcomes[3].error);
    REQUIRE(outcomes[1].error);
    REQUIRE(outcomes[2].error);
    try {
        std::rethrow_exception(outcomes[1].error);
    } catch (const StoreError& e) {
        CHECK(e.code() == ErrorCode::kConflict);
        CHECK(std::string(e.what()).find("trigger_kind") != std::string::npos);
    }
    CHECK_THROWS_AS(std::rethrow_exception(outcomes[2].error), InputError);
    pqxx::connection c(f.db.url());
    check_linear5(c, outcomes[0].run.run_id);
    check_linear5(c, outcomes[3].run.run_id);
    // Nothing of the bad starts was written.
    CHECK(f.scalar("SELECT count(*) FROM workflow_runs") == 2);
    CHECK(f.scalar("SELECT count(*) FROM step_runs") == 10);
    CHECK(f.scalar("SELECT count(*) FROM run_event_log") == 24);
}

TEST_CASE("Runtime.GroupCommit.ABatchMixesFailuresJobsDedupeKeysAndConcurrency") {
    Fixture f;
    const auto linear = f.workflow(kLinear5);
    const auto failing = f.workflow(kFailsInline);
    const auto then_job = f.workflow(kThenJob);
    std::string limited_yaml = std::string(kLinear5) + "concurrency: { key: lin, limit: 1 }\n";
    limited_yaml.replace(limited_yaml.find("name: linear5"), 13, "name: limited5");
    const auto limited = f.workflow(limited_yaml);
    std::vector<runtime::StartCall> calls(6);
    calls[0].definition = &linear;
    calls[1].definition = &failing;
    calls[2].definition = &then_job;
    calls[3].definition = &linear;
    calls[3].request.dedupe_key = "once";
    calls[4].definition = &linear;
    calls[4].request.dedupe_key = "once";  // the same key in the same batch: one run
    calls[5].definition = &limited;
    auto outcomes = f.engine->start_all(calls);
    for (size_t i = 0; i < outcomes.size(); ++i) CHECK_MESSAGE(!outcomes[i].error, i);

    pqxx::connection c(f.db.url());
    check_linear5(c, outcomes[0].run.run_id);
    CHECK(f.run_status(outcomes[1].run.run_id) == "failed");
    auto steps = f.step_statuses(outcomes[1].run.run_id);
    CHECK(steps["first"] == "succeeded");
    CHECK(steps["boom"] == "failed");
    CHECK(steps["never"] == "cancelled");
    CHECK(f.text("SELECT failed_step FROM workflow_runs WHERE id = '" + outcomes[1].run.run_id +
                 "'::uuid") == "boom");
    // A step that stays a job is written as queued, and its job runs it.
    CHECK(f.run_status(outcomes[2].run.run_id) == "running");
    CHECK(f.step_statuses(outcomes[2].run.run_id)["job"] == "queued");
    // The dedupe key: the second start found the first's run.
    CHECK(!outcomes[3].run.existing);
    CHECK(outcomes[4].run.existing);
    CHECK(outcomes[4].run.run_id == outcomes[3].run.run_id);
    check_linear5(c, outcomes[3].run.run_id);
    check_linear5(c, outcomes[5].run.run_id);
    CHECK(f.scalar("SELECT count(*) FROM workflow_runs") == 5);

    f.workers.push_back(f.start_worker());
    REQUIRE(f.finished(outcomes[2].run.run_id));
    CHECK(f.run_status(outcomes[2].run.run_id) == "succeeded");
}
