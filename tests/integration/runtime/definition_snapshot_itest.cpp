// Definition snapshots stored once per distinct YAML (0014_run_rows.sql): runs of one
// version share a row, runs of different versions (or of an edited file) run side by side
// each with its own, the rows cannot change, and runs written before keep their copy.
#include <doctest/doctest.h>

#include <pqxx/pqxx>
#include <set>

#include "engine/store/run_store.hpp"
#include "tests/integration/runtime/runtime_fixture.hpp"

using namespace artistsaid;

namespace {

using Fixture = test::RuntimeFixture;

// The first step is a job (noop), so with no worker the runs stay running and a worker
// later plans the rest from the run's stored definition.
const char* kVersion1 = R"(
name: versioned
version: 1
steps:
  - id: first
    uses: noop
  - id: one
    needs: [first]
    uses: log
    with: { message: "v1", level: debug }
)";

// The same name and version, the file edited: another snapshot.
const char* kVersion1Edited = R"(
name: versioned
version: 1
steps:
  - id: first
    uses: noop
  - id: edited
    needs: [first]
    uses: log
    with: { message: "v1 edited", level: debug }
)";

const char* kVersion2 = R"(
name: versioned
version: 2
steps:
  - id: first
    uses: noop
  - id: two
    needs: [first]
    uses: log
    with: { message: "v2", level: debug }
  - id: three
    needs: [two]
    uses: log
    with: { message: "v2 again", level: debug }
)";

std::set<std::string> step_ids(Fixture& f, const std::string& run_id) {
    std::set<std::string> out;
    for (const auto& [id, status] : f.step_statuses(run_id)) {
        CHECK_MESSAGE(status == "succeeded", id);
        out.insert(id);
    }
    return out;
}

std::string stored_source(Fixture& f, const std::string& run_id) {
    pqxx::connection c(f.db.url());
    pqxx::read_transaction tx(c);
    auto run = store::RunStore::find_run(tx, run_id);
    REQUIRE(run);
    return run->definition.value("source", "");
}

}  // namespace

TEST_CASE("Runtime.DefinitionSnapshot.VersionsRunSideBySideEachWithItsOwnSharedSnapshot") {
    Fixture f;
    const auto v1 = f.workflow(kVersion1);
    const auto v1_edited = f.workflow(kVersion1Edited);
    const auto v2 = f.workflow(kVersion2);
    // Runs of every definition, interleaved, before any worker runs a step.
    std::vector<std::string> runs_v1, runs_v1_edited, runs_v2;
    for (int i = 0; i < 3; ++i) {
        runs_v1.push_back(f.engine->start(v1, runtime::StartRequest{}).run_id);
        runs_v2.push_back(f.engine->start(v2, runtime::StartRequest{}).run_id);
        runs_v1_edited.push_back(f.engine->start(v1_edited, runtime::StartRequest{}).run_id);
    }
    // One snapshot per distinct YAML, shared by its runs; no run carries a copy.
    CHECK(f.scalar("SELECT count(*) FROM workflow_definitions WHERE name = 'versioned'") == 3);
    CHECK(f.scalar("SELECT count(*) FROM workflow_runs WHERE definition IS NOT NULL") == 0);
    CHECK(f.scalar("SELECT count(DISTINCT definition_id) FROM workflow_runs") == 3);
    for (const auto* runs : {&runs_v1, &runs_v1_edited, &runs_v2})
        CHECK(f.scalar("SELECT count(DISTINCT definition_id) FROM workflow_runs WHERE id IN ('" +
                       (*runs)[0] + "', '" + (*runs)[1] + "', '" + (*runs)[2] + "')") == 1);
    CHECK(f.scalar("SELECT count(*) FROM workflow_definitions WHERE name = 'versioned' AND "
                   "version = 1") == 2);

    // Readers get the exact YAML each run started with.
    CHECK(stored_source(f, runs_v1[0]) == v1.source);
    CHECK(stored_source(f, runs_v1_edited[1]) == v1_edited.source);
    CHECK(stored_source(f, runs_v2[2]) == v2.source);

    // A worker plans the rest of each run from its own definition.
    f.workers.push_back(f.start_worker());
    for (const auto* runs : {&runs_v1, &runs_v1_edited, &runs_v2})
        for (const auto& id : *runs) {
            REQUIRE(f.finished(id));
            CHECK(f.run_status(id) == "succeeded");
        }
    for (const auto& id : runs_v1) CHECK(step_ids(f, id) == std::set<std::string>{"first", "one"});
    for (const auto& id : runs_v1_edited)
        CHECK(step_ids(f, id) == std::set<std::string>{"first", "edited"});
    for (const auto& id : runs_v2)
        CHECK(step_ids(f, id) == std::set<std::string>{"first", "two", "three"});
    CHECK(f.text("SELECT inputs->>'message' FROM step_runs WHERE run_id = '" + runs_v1_edited[0] +
                 "'::uuid AND step_id = 'edited'") == "v1 edited");
}

TEST_CASE("Runtime.DefinitionSnapshot.ASnapshotCannotBeChangedOrDeletedWhileARunUsesIt") {
    Fixture f;
    auto run = f.engine->start(f.workflow(kVersion1), runtime::StartRequest{});
    const auto source = stored_source(f, run.run_id);
    CHECK_THROWS_AS(f.exec("UPDATE workflow_definitions SET yaml = 'name: other'"),
                    pqxx::integrity_constraint_violation);
    CHECK_THROWS_AS(f.exec("DELETE FROM workflow_definitions"), pqxx::foreign_key_violation);
    CHECK(stored_source(f, run.run_id) == source);
    // A run refers to a snapshot or carries a copy: never neither, never both.
    CHECK_THROWS_AS(f.exec("UPDATE workflow_runs SET definition = '{}'"),
                    pqxx::check_violation);
    CHECK_THROWS_AS(f.exec("UPDATE workflow_runs SET definition_id = NULL"),
                    pqxx::check_violation);
}

TEST_CASE("Runtime.DefinitionSnapshot.ARunWithItsOwnCopyIsStillReadAndRun") {
    // Runs written before 0014 carry their definition; the run-time still plans them.
    Fixture f;
    const auto v2 = f.workflow(kVersion2);
    auto run = f.engine->start(v2, runtime::StartRequest{});
    f.exec("UPDATE workflow_runs r SET definition = jsonb_build_object('source', d.yaml, "
           "'file', d.source_path, 'checksum', d.checksum), definition_id = NULL "
           "FROM workflow_definitions d WHERE d.id = r.definition_id");
    CHECK(f.scalar("SELECT count(*) FROM workflow_runs WHERE definition_id IS NULL") == 1);
    CHECK(stored_source(f, run.run_id) == v2.source);
    f.workers.push_back(f.start_worker());
    REQUIRE(f.finished(run.run_id));
    CHECK(f.run_status(run.run_id) == "succeeded");
    CHECK(step_ids(f, run.run_id) == std::set<std::string>{"first", "two", "three"});
}

// Several new definitions started in one batch (one transaction): their snapshots are
// stored first, in one order, and each run refers to its own.
TEST_CASE("Runtime.DefinitionSnapshot.ABatchOfNewDefinitionsStoresEachOnce") {
    Fixture f;
    const auto v1 = f.workflow(kVersion1);
    const auto v1_edited = f.workflow(kVersion1Edited);
    const auto v2 = f.workflow(kVersion2);
    std::vector<runtime::StartCall> calls;
    for (const auto* d : {&v2, &v1, &v1_edited, &v2, &v1}) calls.push_back({d, {}});
    auto started = f.engine->start_all(calls);
    REQUIRE(started.size() == calls.size());
    for (const auto& s : started) REQUIRE_FALSE(s.error);
    CHECK(f.scalar("SELECT count(*) FROM workflow_definitions WHERE name = 'versioned'") == 3);
    CHECK(f.scalar("SELECT count(DISTINCT definition_id) FROM workflow_runs") == 3);
    CHECK(stored_source(f, started[0].run.run_id) == v2.source);
    CHECK(stored_source(f, started[1].run.run_id) == v1.source);
    CHECK(stored_source(f, started[2].run.run_id) == v1_edited.source);
    CHECK(f.scalar("SELECT count(DISTINCT definition_id) FROM workflow_runs WHERE id IN ('" +
                   started[0].run.run_id + "', '" + started[3].run.run_id + "')") == 1);
}
