#include "engine/store/run_store.hpp"

#include "engine/core/id.hpp"

namespace artistsaid::store {
namespace {

constexpr const char* kIso = "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'";

std::string iso(const std::string& column) {
    return "coalesce(to_char(" + column + " AT TIME ZONE 'UTC', " + kIso + "), '')";
}

const std::string kRunColumns =
    "id::text, workflow_name, workflow_version, coalesce(definition, (SELECT "
    "jsonb_build_object('source', d.yaml, 'file', coalesce(d.source_path, ''), 'checksum', "
    "d.checksum, 'id', d.id) FROM workflow_definitions d "
    "WHERE d.id = workflow_runs.definition_id))::text, "
    "inputs::text, "
    "coalesce(outputs::text, 'null'), status, trigger_kind, coalesce(trigger_ref, ''), "
    "coalesce(dedupe_key, ''), coalesce(concurrency_key, ''), coalesce(error, ''), " +
    iso("created_at") + ", " + iso("started_at") + ", " + iso("finished_at") +
    ", coalesce(parent_run_id::text, ''), coalesce(parent_step, ''), coalesce(failed_step, '')";

const std::string kStepColumns =
    "id::text, run_id::text, step_id, item_index, status, attempt, idempotency_key, "
    "coalesce(inputs::text, 'null'), coalesce(outputs::text, 'null'), coalesce(error, ''), " +
    iso("next_attempt_at") +
    ", coalesce((extract(epoch from next_attempt_at) * 1000)::bigint, 0), " +
    iso("started_at") + ", " + iso("finished_at") + ", coalesce(item::text, 'null')";

const std::string kFanoutColumns =
    "run_id::text, step_id, source::text, total, max_parallel, lanes, lanes_done, stopping, "
    "succeeded_count, failed_count";

const std::string kWaitColumns =
    "id::text, run_id::text, step_id, item_index, event, key, "
    "coalesce((extract(epoch from timeout_at) * 1000)::bigint, 0), resolved_at IS NOT NULL, "
    "coalesce(outcome, ''), coalesce(payload::text, 'null')";

// The element at index IDX of the collection of the fan-out row aliased F: inline items
// are read from the stored array, a $range computes them, a $collection reads one row of
// collection_items, $step_outputs one item's outputs of the other step.
std::string item_at(const std::string& f, const std::string& idx) {
    return "CASE " + f + ".source->>'kind' "
           "WHEN 'inline' THEN (" + f + ".source->'items') -> ((" + idx + ")::int) "
           "WHEN 'range' THEN to_jsonb((" + f + ".source->>'start')::bigint + (" + idx +
           ") * (" + f + ".source->>'step')::bigint) "
           "WHEN 'collection' THEN (SELECT ci.item FROM collection_items ci WHERE "
           "ci.collection_id = (" + f + ".source->>'id')::uuid AND ci.idx = (" + idx + ")) "
           "WHEN 'step_outputs' THEN (SELECT o.outputs FROM step_runs o WHERE o.run_id = " + f +
           ".run_id AND o.step_id = " + f + ".source->>'step' AND o.item_index = (" + idx +
           ")) END";
}

// The first item at or after FROM in its lane (FROM, FROM+lanes, …) that has not
// succeeded yet: on a first pass FROM itself; a retried fan-out skips what succeeded.
// Written so that its cost cannot depend on statistics (a prepared statement keeps the
// plan it chose when the table was empty): the recursive CTE is read lazily and walks only
// while items succeeded (generate_series would materialise the rest of the lane for every
// item), and each candidate is a scalar subquery, always one probe of the unique key (an
// EXISTS may become an anti-join that reads every row of the step).
std::string next_in_lane(const std::string& f, const std::string& from) {
    const std::string status_of = "(SELECT d.status FROM step_runs d WHERE d.run_id = " + f +
                                  ".run_id AND d.step_id = " + f +
                                  ".step_id AND d.item_index = lane.j)";
    return "(WITH RECURSIVE lane(j) AS (SELECT (" + from + ")::bigint UNION ALL SELECT lane.j + " +
           f + ".lanes FROM lane WHERE lane.j < " + f + ".total AND " + status_of +
           " = 'succeeded') SELECT lane.j FROM lane WHERE lane.j < " + f + ".total AND " +
           status_of + " IS DISTINCT FROM 'succeeded' LIMIT 1)";
}

// Is the run running? A probe of the primary key, whatever the statistics say.
const std::string kRunIsRunning =
    "(SELECT r.status FROM workflow_runs r WHERE r.id = $1::uuid) = 'running'";

// Inserting an item's row; a row left from an earlier pass (a retried run) is reset.
const std::string kUpsertItem =
    "ON CONFLICT (run_id, step_id, item_index) DO UPDATE SET status = 'queued', attempt = 0, "
    "item = EXCLUDED.item, inputs = NULL, outputs = NULL, error = NULL, next_attempt_at = NULL, "
    "started_at = NULL, finished_at = NULL, updated_at = now() "
    "WHERE step_runs.status <> 'succeeded' RETURNING item_index";

RunRow run_from(const pqxx::row& r) {
    RunRow run;
    run.id = r[0].as<std::string>();
    run.workflow_name = r[1].as<std::string>();
    run.workflow_version = r[2].as<int>();
    run.definition = nlohmann::json::parse(r[3].as<std::string>());
    if (auto id = run.definition.find("id"); id != run.definition.end()) {  // a shared snapshot
        run.definition_id = id->get<std::int64_t>();
        run.definition.erase(id);
    }
    run.inputs = nlohmann::json::parse(r[4].as<std::string>());
    run.outputs = nlohmann::json::parse(r[5].as<std::string>());
    run.status = r[6].as<std::string>();
    run.trigger_kind = r[7].as<std::string>();
    run.trigger_ref = r[8].as<std::string>();
    run.dedupe_key = r[9].as<std::string>();
    run.concurrency_key = r[10].as<std::string>();
    run.error = r[11].as<std::string>();
    run.created_at = r[12].as<std::string>();
    run.started_at = r[13].as<std::string>();
    run.finished_at = r[14].as<std::string>();
    run.parent_run_id = r[15].as<std::string>();
    run.parent_step = r[16].as<std::string>();
    run.failed_step = r[17].as<std::string>();
    return run;
}

StepRow step_from(const pqxx::row& r) {
    StepRow s;
    s.id = r[0].as<std::string>();
    s.run_id = r[1].as<std::string>();
    s.step_id = r[2].as<std::string>();
    s.item_index = r[3].as<int>();
    s.status = r[4].as<std::string>();
    s.attempt = r[5].as<int>();
    s.idempotency_key = r[6].as<std::string>();
    s.inputs = nlohmann::json::parse(r[7].as<std::string>());
    s.outputs = nlohmann::json::parse(r[8].as<std::string>());
    s.error = r[9].as<std::string>();
    s.next_attempt_at = r[10].as<std::string>();
    s.next_attempt_ms = r[11].as<long long>();
    s.started_at = r[12].as<std::string>();
    s.finished_at = r[13].as<std::string>();
    s.item = nlohmann::json::parse(r[14].as<std::string>());
    return s;
}

FanoutRow fanout_from(const pqxx::row& r) {
    FanoutRow f;
    f.run_id = r[0].as<std::string>();
    f.step_id = r[1].as<std::string>();
    f.source = nlohmann::json::parse(r[2].as<std::string>());
    f.total = r[3].as<std::int64_t>();
    f.max_parallel = r[4].as<int>();
    f.lanes = r[5].as<int>();
    f.lanes_done = r[6].as<int>();
    f.stopping = r[7].as<bool>();
    f.succeeded_count = r[8].as<std::int64_t>();
    f.failed_count = r[9].as<std::int64_t>();
    return f;
}

WaitRow wait_from(const pqxx::row& r) {
    WaitRow w;
    w.id = r[0].as<std::string>();
    w.run_id = r[1].as<std::string>();
    w.step_id = r[2].as<std::string>();
    w.item_index = r[3].as<int>();
    w.event = r[4].as<std::string>();
    w.key = r[5].as<std::string>();
    w.timeout_ms = r[6].as<long long>();
    w.resolved = r[7].as<bool>();
    w.outcome = r[8].as<std::string>();
    w.payload = nlohmann::json::parse(r[9].as<std::string>());
    return w;
}

// Hot statements are prepared once per connection and then planned once (PostgreSQL
// switches to a generic plan): parsing and planning were half of the server's time per
// fan-out item. libpqxx ignores a second prepare() with the same definition.
template <typename... Args>
pqxx::result exec_prepared(pqxx::transaction_base& tx, const char* name, const std::string& sql,
                           Args&&... args) {
    tx.conn().prepare(name, sql);
    return tx.exec_prepared(name, std::forward<Args>(args)...);
}

std::optional<std::string> opt(const std::string& s) {
    if (s.empty()) return std::nullopt;
    return s;
}

std::optional<std::string> opt_json(const nlohmann::json& j) {
    if (j.is_null()) return std::nullopt;
    return j.dump();
}

// A run refers to its shared definition snapshot (0014_run_rows.sql), or carries a copy.
std::optional<std::string> definition_copy(const RunRow& run) {
    if (run.definition_id) return std::nullopt;
    return run.definition.dump();
}
std::optional<std::int64_t> definition_ref(const RunRow& run) { return run.definition_id; }

bool is_final(const std::string& status) {
    return status == "succeeded" || status == "failed" || status == "continued" ||
           status == "skipped" || status == "cancelled" || status == "compensated";
}

nlohmann::json new_ids(std::int64_t count) {
    nlohmann::json ids = nlohmann::json::array();
    for (std::int64_t i = 0; i < count; ++i) ids.push_back(new_id());
    return ids;
}

std::vector<std::int64_t> int_list(const std::string& json_text) {
    std::vector<std::int64_t> out;
    for (const auto& v : nlohmann::json::parse(json_text)) out.push_back(v.get<std::int64_t>());
    return out;
}

}  // namespace

// --- runs ------------------------------------------------------------------------------

void RunStore::insert_run(pqxx::work& tx, const RunRow& run) {
    exec_prepared(tx, "aa_insert_run",
        "INSERT INTO workflow_runs (id, workflow_name, workflow_version, definition, inputs, "
        "status, trigger_kind, trigger_ref, dedupe_key, concurrency_key, parent_run_id, "
        "parent_step, started_at, definition_id) "
        "VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7, $8, $9, $10, $11::uuid, $12, "
        "CASE WHEN $6 = 'running' THEN now() END, $13::bigint)",
        run.id, run.workflow_name, run.workflow_version, definition_copy(run),
        run.inputs.dump(), run.status, run.trigger_kind, opt(run.trigger_ref),
        opt(run.dedupe_key), opt(run.concurrency_key), opt(run.parent_run_id),
        opt(run.parent_step), definition_ref(run));
}

std::optional<RunRow> RunStore::lock_run(pqxx::work& tx, const std::string& id) {
    static const std::string sql =
        "SELECT " + kRunColumns + " FROM workflow_runs WHERE id = $1::uuid FOR UPDATE";
    auto rows = exec_prepared(tx, "aa_lock_run", sql, id);
    if (rows.empty()) return std::nullopt;
    return run_from(rows[0]);
}

std::optional<RunRow> RunStore::find_run(pqxx::transaction_base& tx, const std::string& id) {
    auto rows = tx.exec_params("SELECT " + kRunColumns + " FROM workflow_runs WHERE id = $1::uuid",
                               id);
    if (rows.empty()) return std::nullopt;
    return run_from(rows[0]);
}

std::optional<std::string> RunStore::find_by_dedupe_key(pqxx::transaction_base& tx,
                                                        const std::string& key) {
    auto rows = tx.exec_params("SELECT id::text FROM workflow_runs WHERE dedupe_key = $1", key);
    if (rows.empty()) return std::nullopt;
    return rows[0][0].as<std::string>();
}

std::vector<RunRow> RunStore::list_runs(pqxx::transaction_base& tx, const RunFilter& f) {
    auto rows = tx.exec_params(
        "SELECT " + kRunColumns +
            " FROM workflow_runs WHERE ($1 = '' OR status = $1) AND ($2 = '' OR workflow_name = $2)"
            " ORDER BY id DESC LIMIT $3",
        f.status, f.workflow, f.limit);
    std::vector<RunRow> out;
    for (const auto& r : rows) out.push_back(run_from(r));
    return out;
}

void RunStore::set_run_status(pqxx::work& tx, const std::string& id, const std::string& status,
                              const std::string& error) {
    exec_prepared(tx, "aa_set_run_status",
        "UPDATE workflow_runs SET status = $2, error = coalesce($3, error), updated_at = now(), "
        "started_at = coalesce(started_at, CASE WHEN $2 = 'running' THEN now() END), "
        "finished_at = CASE WHEN $2 IN ('succeeded', 'failed', 'cancelled') THEN now() "
        "ELSE finished_at END WHERE id = $1::uuid",
        id, status, opt(error));
}

void RunStore::set_run_outputs(pqxx::work& tx, const std::string& id,
                               const nlohmann::json& outputs) {
    exec_prepared(tx, "aa_set_run_outputs", "UPDATE workflow_runs SET outputs = $2::jsonb WHERE id = $1::uuid", id,
                    outputs.dump());
}

void RunStore::finish_run(pqxx::work& tx, const std::string& id, const std::string& status,
                          const std::string& error, const nlohmann::json& outputs) {
    exec_prepared(tx, "aa_finish_run",
        "WITH r AS (UPDATE workflow_runs SET status = $2, error = coalesce($3, error), "
        "outputs = coalesce($4::jsonb, outputs), updated_at = now(), finished_at = now() "
        "WHERE id = $1::uuid RETURNING id), "
        "e AS (INSERT INTO run_events (id, run_id, kind, payload) SELECT $5::uuid, r.id, "
        "'run.' || $2, jsonb_build_object('error', $3::text) FROM r RETURNING 1), "
        "w AS (UPDATE run_waits SET resolved_at = now(), outcome = 'cancelled' "
        "WHERE run_id = $1::uuid AND resolved_at IS NULL RETURNING 1) "
        "SELECT (SELECT count(*) FROM e), (SELECT count(*) FROM w)",
        id, status, opt(error), opt_json(outputs), new_id());
}

void RunStore::insert_run_with_steps(pqxx::work& tx, const RunRow& run,
                                     const std::vector<StepRow>& steps, const std::string& event,
                                     const nlohmann::json& payload) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& s : steps)
        rows.push_back({{"id", s.id}, {"step_id", s.step_id}, {"idempotency_key", s.idempotency_key}});
    exec_prepared(tx, "aa_insert_run_with_steps",
        "WITH r AS (INSERT INTO workflow_runs (id, workflow_name, workflow_version, definition, "
        "inputs, status, trigger_kind, trigger_ref, dedupe_key, concurrency_key, parent_run_id, "
        "parent_step, started_at, definition_id) VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, "
        "$7, $8, $9, $10, $11::uuid, $12, CASE WHEN $6 = 'running' THEN now() END, $17::bigint) "
        "RETURNING id), "
        "s AS (INSERT INTO step_runs (id, run_id, step_id, item_index, status, idempotency_key) "
        "SELECT x.id, r.id, x.step_id, -1, 'pending', x.idempotency_key FROM r, "
        "jsonb_to_recordset($13::jsonb) AS x(id uuid, step_id text, idempotency_key text) "
        "RETURNING 1), "
        "e AS (INSERT INTO run_events (id, run_id, kind, payload) SELECT $14::uuid, r.id, $15, "
        "$16::jsonb FROM r RETURNING 1) "
        "SELECT (SELECT count(*) FROM s), (SELECT count(*) FROM e)",
        run.id, run.workflow_name, run.workflow_version, definition_copy(run), run.inputs.dump(),
        run.status, run.trigger_kind, opt(run.trigger_ref), opt(run.dedupe_key),
        opt(run.concurrency_key), opt(run.parent_run_id), opt(run.parent_step), rows.dump(),
        new_id(), event, payload.dump(), definition_ref(run));
}

void RunStore::set_failed_step(pqxx::work& tx, const std::string& id, const std::string& step,
                               const std::string& error) {
    tx.exec_params0(
        "UPDATE workflow_runs SET failed_step = $2, error = $3, updated_at = now() "
        "WHERE id = $1::uuid",
        id, opt(step), opt(error));
}

std::vector<std::string> RunStore::active_children(pqxx::transaction_base& tx,
                                                   const std::string& run_id) {
    auto rows = tx.exec_params(
        "SELECT id::text FROM workflow_runs WHERE parent_run_id = $1::uuid AND status IN "
        "('pending', 'running', 'waiting', 'failing', 'cancelling') ORDER BY id",
        run_id);
    std::vector<std::string> out;
    for (const auto& r : rows) out.push_back(r[0].as<std::string>());
    return out;
}

// --- steps -----------------------------------------------------------------------------

void RunStore::insert_steps(pqxx::work& tx, const std::vector<StepRow>& steps) {
    if (steps.empty()) return;
    // One statement for all rows: libpqxx 6 has no array parameters, so the rows travel
    // as one JSON array.
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& s : steps)
        rows.push_back({{"id", s.id},
                        {"run_id", s.run_id},
                        {"step_id", s.step_id},
                        {"item_index", s.item_index},
                        {"status", s.status},
                        {"idempotency_key", s.idempotency_key},
                        {"item", s.item}});
    exec_prepared(tx, "aa_insert_steps",
        "INSERT INTO step_runs (id, run_id, step_id, item_index, status, idempotency_key, item) "
        "SELECT id, run_id, step_id, item_index, status, idempotency_key, "
        "CASE WHEN jsonb_typeof(item) = 'null' THEN NULL ELSE item END "
        "FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, run_id uuid, step_id text, "
        "item_index int, status text, idempotency_key text, item jsonb)",
        rows.dump());
}

std::vector<StepRow> RunStore::steps_of(pqxx::transaction_base& tx, const std::string& run_id) {
    auto rows = tx.exec_params("SELECT " + kStepColumns +
                                   " FROM step_runs WHERE run_id = $1::uuid ORDER BY id",
                               run_id);
    std::vector<StepRow> out;
    out.reserve(rows.size());
    for (const auto& r : rows) out.push_back(step_from(r));
    return out;
}

std::vector<StepRow> RunStore::parents_of(pqxx::transaction_base& tx, const std::string& run_id) {
    static const std::string sql = "SELECT " + kStepColumns +
                                   " FROM step_runs WHERE run_id = $1::uuid AND item_index = -1 "
                                   "ORDER BY id";
    auto rows = exec_prepared(tx, "aa_parents_of", sql, run_id);
    std::vector<StepRow> out;
    out.reserve(rows.size());
    for (const auto& r : rows) out.push_back(step_from(r));
    return out;
}

std::vector<StepRow> RunStore::live_steps_of(pqxx::transaction_base& tx,
                                             const std::string& run_id) {
    static const std::string sql = "SELECT " + kStepColumns +
                                   " FROM step_runs WHERE run_id = $1::uuid AND status IN "
                                   "('queued', 'running', 'retrying', 'waiting') "
                                   "ORDER BY item_index, id";
    auto rows = exec_prepared(tx, "aa_live_steps_of", sql, run_id);
    std::vector<StepRow> out;
    out.reserve(rows.size());
    for (const auto& r : rows) out.push_back(step_from(r));
    return out;
}

std::optional<StepRow> RunStore::lock_step(pqxx::work& tx, const std::string& run_id,
                                           const std::string& step_id, int item_index) {
    static const std::string sql = "SELECT " + kStepColumns +
                                   " FROM step_runs WHERE run_id = $1::uuid AND step_id = $2 "
                                   "AND item_index = $3 FOR UPDATE";
    auto rows = exec_prepared(tx, "aa_lock_step", sql, run_id, step_id, item_index);
    if (rows.empty()) return std::nullopt;
    return step_from(rows[0]);
}

std::optional<StepRow> RunStore::find_step(pqxx::transaction_base& tx, const std::string& run_id,
                                           const std::string& step_id, int item_index) {
    auto rows = tx.exec_params("SELECT " + kStepColumns +
                                   " FROM step_runs WHERE run_id = $1::uuid AND step_id = $2 "
                                   "AND item_index = $3",
                               run_id, step_id, item_index);
    if (rows.empty()) return std::nullopt;
    return step_from(rows[0]);
}

void RunStore::update_step(pqxx::work& tx, const StepRow& s) {
    exec_prepared(tx, "aa_update_step",
        "UPDATE step_runs SET status = $2, attempt = $3, inputs = $4::jsonb, outputs = $5::jsonb, "
        "error = $6, updated_at = now(), "
        "next_attempt_at = CASE WHEN $7::bigint > 0 THEN to_timestamp($7::bigint / 1000.0) END, "
        "started_at = CASE WHEN $2 = 'running' THEN coalesce(started_at, now()) ELSE started_at END, "
        "finished_at = CASE WHEN $8 THEN coalesce(finished_at, now()) ELSE NULL END "
        "WHERE id = $1::uuid",
        s.id, s.status, s.attempt, opt_json(s.inputs), opt_json(s.outputs), opt(s.error),
        s.next_attempt_ms, is_final(s.status));
}

void RunStore::record_step(pqxx::work& tx, const StepRow& s, const nlohmann::json& events) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& e : events)
        rows.push_back({{"id", new_id()}, {"kind", e.at("kind")}, {"payload", e.at("payload")}});
    exec_prepared(tx, "aa_record_step",
        "WITH u AS (UPDATE step_runs SET status = $2, attempt = $3, inputs = $4::jsonb, "
        "outputs = $5::jsonb, error = $6, updated_at = now(), "
        "next_attempt_at = CASE WHEN $7::bigint > 0 THEN to_timestamp($7::bigint / 1000.0) END, "
        "started_at = CASE WHEN $2 = 'running' OR $8 THEN coalesce(started_at, now()) "
        "ELSE started_at END, "
        "finished_at = CASE WHEN $8 THEN coalesce(finished_at, now()) ELSE NULL END "
        "WHERE id = $1::uuid RETURNING run_id, id) "
        "INSERT INTO run_events (id, run_id, step_run_id, kind, payload) "
        "SELECT e.id, u.run_id, u.id, e.kind, e.payload FROM u, "
        "jsonb_to_recordset($9::jsonb) AS e(id uuid, kind text, payload jsonb)",
        s.id, s.status, s.attempt, opt_json(s.inputs), opt_json(s.outputs), opt(s.error),
        s.next_attempt_ms, is_final(s.status), rows.dump());
}

void RunStore::set_steps_status(pqxx::work& tx, const std::string& run_id,
                                const std::vector<std::string>& step_ids,
                                const std::string& status) {
    if (step_ids.empty()) return;
    exec_prepared(tx, "aa_set_steps_status",
        "UPDATE step_runs SET status = $3, updated_at = now(), "
        "finished_at = CASE WHEN $4 THEN coalesce(finished_at, now()) ELSE finished_at END "
        "WHERE run_id = $1::uuid AND item_index = -1 "
        "AND step_id IN (SELECT jsonb_array_elements_text($2::jsonb))",
        run_id, nlohmann::json(step_ids).dump(), status, is_final(status));
}

long long RunStore::cancel_idle_steps(pqxx::work& tx, const std::string& run_id,
                                     bool items_only) {
    auto r = tx.exec_params1(
        "WITH c AS (UPDATE step_runs SET status = 'cancelled', updated_at = now(), "
        "finished_at = now(), next_attempt_at = NULL WHERE run_id = $1::uuid AND "
        "((item_index >= 0 AND status IN ('retrying', 'waiting')) OR (NOT $2 AND "
        "item_index < 0 AND status IN ('pending', 'queued', 'retrying', 'waiting'))) "
        "RETURNING step_id, item_index), "
        "n AS (SELECT step_id, count(*) AS cancelled FROM c WHERE item_index >= 0 "
        "GROUP BY step_id), "
        "f AS (UPDATE step_fanouts x SET lanes_done = x.lanes_done + n.cancelled, "
        "stopping = true, updated_at = now() FROM n WHERE x.run_id = $1::uuid "
        "AND x.step_id = n.step_id RETURNING 1) "
        "SELECT (SELECT count(*) FROM c), (SELECT count(*) FROM f)",
        run_id, items_only);
    return r[0].as<long long>();
}

long long RunStore::cancel_idle_main_steps(pqxx::work& tx, const std::string& run_id) {
    auto r = tx.exec_params1(
        "WITH c AS (UPDATE step_runs s SET status = 'cancelled', updated_at = now(), "
        "finished_at = now(), next_attempt_at = NULL WHERE s.run_id = $1::uuid "
        "AND s.item_index = -1 AND s.status IN ('queued', 'retrying', 'waiting') "
        "AND NOT EXISTS (SELECT 1 FROM run_waits w WHERE w.run_id = s.run_id "
        "AND w.step_id = s.step_id AND w.item_index = -1 AND w.resolved_at IS NULL "
        "AND w.event = 'workflow.finished') RETURNING s.step_id), "
        "w AS (UPDATE run_waits x SET resolved_at = now(), outcome = 'cancelled' FROM c "
        "WHERE x.run_id = $1::uuid AND x.step_id = c.step_id AND x.item_index = -1 "
        "AND x.resolved_at IS NULL RETURNING 1) "
        "SELECT (SELECT count(*) FROM c), (SELECT count(*) FROM w)",
        run_id);
    return r[0].as<long long>();
}

void RunStore::set_step_item(pqxx::work& tx, const std::string& row_id, const nlohmann::json& item) {
    tx.exec_params0("UPDATE step_runs SET item = $2::jsonb, updated_at = now() WHERE id = $1::uuid",
                    row_id, opt_json(item));
}

std::optional<std::pair<int, nlohmann::json>> RunStore::previous_succeeded_item(
    pqxx::transaction_base& tx, const std::string& run_id, const std::string& step_id, int below) {
    auto rows = tx.exec_params(
        "SELECT item_index, coalesce(item::text, 'null') FROM step_runs "
        "WHERE run_id = $1::uuid AND step_id = $2 AND item_index >= 0 AND status = 'succeeded' "
        "AND ($3 < 0 OR item_index < $3) ORDER BY item_index DESC LIMIT 1",
        run_id, step_id, below);
    if (rows.empty()) return std::nullopt;
    return std::make_pair(rows[0][0].as<int>(), nlohmann::json::parse(rows[0][1].as<std::string>()));
}

long long RunStore::count_items(pqxx::transaction_base& tx, const std::string& run_id,
                                const std::string& step_id, const std::string& status) {
    return tx
        .exec_params1(
            "SELECT count(*) FROM step_runs WHERE run_id = $1::uuid AND step_id = $2 "
            "AND item_index >= 0 AND status = $3",
            run_id, step_id, status)[0]
        .as<long long>();
}

nlohmann::json RunStore::item_summary(pqxx::transaction_base& tx, const std::string& run_id) {
    auto rows = tx.exec_params(
        "SELECT step_id, status, count(*) FROM step_runs WHERE run_id = $1::uuid "
        "AND item_index >= 0 GROUP BY step_id, status ORDER BY step_id, status",
        run_id);
    nlohmann::json out = nlohmann::json::object();
    for (const auto& r : rows)
        out[r[0].as<std::string>()][r[1].as<std::string>()] = r[2].as<long long>();
    return out;
}

std::vector<StepRow> RunStore::items_of(pqxx::transaction_base& tx, const std::string& run_id,
                                        const std::vector<std::string>& statuses, int limit) {
    auto rows = tx.exec_params(
        "SELECT " + kStepColumns +
            " FROM step_runs WHERE run_id = $1::uuid AND item_index >= 0 AND ($2 = '[]' OR "
            "status IN (SELECT jsonb_array_elements_text($2::jsonb))) "
            "ORDER BY step_id, item_index LIMIT $3",
        run_id, nlohmann::json(statuses).dump(), limit);
    std::vector<StepRow> out;
    for (const auto& r : rows) out.push_back(step_from(r));
    return out;
}

void RunStore::add_event(pqxx::work& tx, const std::string& run_id, const std::string& kind,
                         const nlohmann::json& payload, const std::string& step_row_id) {
    exec_prepared(tx, "aa_add_event",
        "INSERT INTO run_events (id, run_id, step_run_id, kind, payload) "
        "VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5::jsonb)",
        new_id(), run_id, opt(step_row_id), kind, payload.dump());
}

std::vector<std::string> RunStore::active_run_ids(pqxx::transaction_base& tx, int limit) {
    auto rows = tx.exec_params(
        "SELECT id::text FROM workflow_runs WHERE status IN ('running', 'waiting', 'failing', "
        "'cancelling') ORDER BY id LIMIT $1",
        limit);
    std::vector<std::string> out;
    for (const auto& r : rows) out.push_back(r[0].as<std::string>());
    return out;
}

// --- fan-outs --------------------------------------------------------------------------

void RunStore::start_fanout(pqxx::work& tx, const std::string& run_id, const std::string& step_id,
                            const nlohmann::json& source, std::int64_t total, int max_parallel) {
    int lanes = static_cast<int>(std::min<std::int64_t>(max_parallel, total));
    tx.exec_params0(
        "INSERT INTO step_fanouts (run_id, step_id, source, total, max_parallel, lanes) "
        "VALUES ($1::uuid, $2, $3::jsonb, $4, $5, $6) ON CONFLICT (run_id, step_id) DO UPDATE "
        "SET source = EXCLUDED.source, total = EXCLUDED.total, "
        "max_parallel = EXCLUDED.max_parallel, lanes = EXCLUDED.lanes, lanes_done = 0, "
        "stopping = false, succeeded_count = 0, failed_count = 0, updated_at = now()",
        run_id, step_id, source.dump(), total, max_parallel, lanes);
}

std::optional<FanoutRow> RunStore::find_fanout(pqxx::transaction_base& tx,
                                               const std::string& run_id,
                                               const std::string& step_id) {
    static const std::string sql = "SELECT " + kFanoutColumns +
                                   " FROM step_fanouts WHERE run_id = $1::uuid AND step_id = $2";
    auto rows = exec_prepared(tx, "aa_find_fanout", sql, run_id, step_id);
    if (rows.empty()) return std::nullopt;
    return fanout_from(rows[0]);
}

std::vector<std::int64_t> RunStore::open_lanes(pqxx::work& tx, const std::string& run_id,
                                               const std::string& step_id) {
    auto fanout = find_fanout(tx, run_id, step_id);
    if (!fanout || fanout->lanes == 0) return {};
    static const std::string sql =
        "WITH f AS (SELECT * FROM step_fanouts WHERE run_id = $1::uuid AND step_id = $2), "
        "firsts AS (SELECT f.*, l, " + next_in_lane("f", "l") +
        " AS k FROM f, generate_series(0, f.lanes - 1) AS l), "
        "ins AS (INSERT INTO step_runs (id, run_id, step_id, item_index, status, "
        "idempotency_key, item) SELECT ($3::jsonb ->> f.l)::uuid, f.run_id, f.step_id, f.k::int, "
        "'queued', f.run_id::text || ':' || f.step_id || ':' || f.k, " + item_at("f", "f.k") +
        " FROM firsts AS f WHERE f.k IS NOT NULL " + kUpsertItem + "), "
        "upd AS (UPDATE step_fanouts x SET lanes_done = x.lanes - (SELECT count(*) FROM ins), "
        "updated_at = now() WHERE x.run_id = $1::uuid AND x.step_id = $2 RETURNING 1) "
        "SELECT coalesce((SELECT jsonb_agg(item_index ORDER BY item_index) FROM ins), "
        "'[]')::text, (SELECT count(*) FROM upd)";
    auto r = tx.exec_params1(sql, run_id, step_id, new_ids(fanout->lanes).dump());
    return int_list(r[0].as<std::string>());
}

ItemCompletion RunStore::complete_item(pqxx::transaction_base& tx, const std::string& run_id,
                                       const std::string& step_id, const ItemOutcome& o) {
    static const std::string sql =
        "WITH fin AS (UPDATE step_runs SET status = $4, attempt = $8, inputs = $5::jsonb, "
        "outputs = $6::jsonb, error = $7, updated_at = now(), finished_at = now(), "
        "next_attempt_at = NULL, started_at = coalesce(started_at, "
        "to_timestamp(nullif($11::bigint, 0) / 1000.0), now()) "
        "WHERE id = $3::uuid AND ((status = 'running' AND attempt = $8) OR "
        "(status = 'queued' AND attempt = 0 AND $8 = 1)) RETURNING item_index), "
        "f AS (SELECT x.run_id, x.step_id, x.source, x.total, x.lanes, fin.item_index "
        "FROM step_fanouts x, fin WHERE x.run_id = $1::uuid AND x.step_id = $2 "
        "AND NOT x.stopping AND NOT $9::boolean AND " + kRunIsRunning + "), "
        "nxt AS (SELECT f.*, " + next_in_lane("f", "f.item_index + f.lanes") + " AS k FROM f), "
        "ins AS (INSERT INTO step_runs (id, run_id, step_id, item_index, status, "
        "idempotency_key, item) SELECT $10::uuid, f.run_id, f.step_id, f.k::int, 'queued', "
        "f.run_id::text || ':' || f.step_id || ':' || f.k, " + item_at("f", "f.k") +
        " FROM nxt AS f WHERE f.k IS NOT NULL " + kUpsertItem + ", id, item), "
        "ended AS (UPDATE step_fanouts x SET lanes_done = x.lanes_done + 1, "
        "stopping = x.stopping OR $9::boolean, updated_at = now() FROM fin "
        "WHERE x.run_id = $1::uuid AND x.step_id = $2 AND NOT EXISTS (SELECT 1 FROM ins) "
        "RETURNING x.lanes_done >= x.lanes AS finished) "
        "SELECT (SELECT count(*) FROM fin), coalesce((SELECT item_index FROM ins), -1), "
        "coalesce((SELECT finished FROM ended), false), "
        "coalesce((SELECT id::text FROM ins), ''), coalesce((SELECT item::text FROM ins), 'null')";
    ItemCompletion out;
    auto r = exec_prepared(tx, "aa_complete_item", sql, run_id, step_id, o.row_id, o.status,
                           opt_json(o.inputs), opt_json(o.outputs), opt(o.error), o.attempt,
                           o.stop, new_id(), o.started_ms);
    out.recorded = r[0][0].as<long long>() > 0;
    out.next = r[0][1].as<std::int64_t>();
    out.finished = r[0][2].as<bool>();
    out.next_row_id = r[0][3].as<std::string>();
    out.next_item = nlohmann::json::parse(r[0][4].as<std::string>());
    return out;
}

std::optional<std::pair<std::string, nlohmann::json>> RunStore::start_item(
    pqxx::transaction_base& tx, const std::string& run_id, const std::string& step_id,
    int item_index, int attempt) {
    pqxx::result rows;
    if (attempt == 1) {
        rows = exec_prepared(tx, "aa_start_item_first",
            "SELECT s.id::text, coalesce(s.item::text, 'null') FROM step_runs s "
            "WHERE s.run_id = $1::uuid AND s.step_id = $2 AND s.item_index = $3 "
            "AND s.status = 'queued' AND s.attempt = 0 "
            "AND " + kRunIsRunning,
            run_id, step_id, item_index);
    } else {
        rows = exec_prepared(tx, "aa_start_item",
            "UPDATE step_runs s SET status = 'running', attempt = $4, next_attempt_at = NULL, "
            "updated_at = now(), started_at = now() "
            "WHERE s.run_id = $1::uuid AND s.step_id = $2 AND s.item_index = $3 "
            "AND ((s.status = 'retrying' AND s.attempt < $4) OR "
            "(s.status = 'running' AND s.attempt <= $4)) "
            "AND " + kRunIsRunning + " "
            "RETURNING s.id::text, coalesce(s.item::text, 'null')",
            run_id, step_id, item_index, attempt);
    }
    if (rows.empty()) return std::nullopt;
    return std::make_pair(rows[0][0].as<std::string>(),
                          nlohmann::json::parse(rows[0][1].as<std::string>()));
}

bool RunStore::park_item(pqxx::transaction_base& tx, const std::string& row_id, int attempt,
                         const std::string& status, const std::string& error,
                         long long next_attempt_ms) {
    auto r = exec_prepared(tx, "aa_park_item",
        "UPDATE step_runs SET status = $3, attempt = $2, error = $4, updated_at = now(), "
        "started_at = coalesce(started_at, now()), "
        "next_attempt_at = CASE WHEN $5::bigint > 0 THEN to_timestamp($5::bigint / 1000.0) END "
        "WHERE id = $1::uuid AND ((status = 'running' AND attempt = $2) OR "
        "(status = 'queued' AND attempt = 0 AND $2 = 1))",
        row_id, attempt, status, opt(error), next_attempt_ms);
    return r.affected_rows() == 1;
}

std::optional<FanoutRow> RunStore::end_lane(pqxx::work& tx, const std::string& run_id,
                                            const std::string& step_id, const std::string& row_id,
                                            const std::string& status, const std::string& error) {
    auto rows = tx.exec_params(
        "WITH c AS (UPDATE step_runs SET status = $4, error = $5, updated_at = now(), "
        "finished_at = now(), next_attempt_at = NULL WHERE id = $3::uuid AND status IN "
        "('queued', 'running', 'retrying', 'waiting') RETURNING 1) "
        "UPDATE step_fanouts x SET lanes_done = x.lanes_done + 1, stopping = true, "
        "updated_at = now() FROM c WHERE x.run_id = $1::uuid AND x.step_id = $2 RETURNING " +
            kFanoutColumns,
        run_id, step_id, row_id, status, opt(error));
    if (rows.empty()) return std::nullopt;
    return fanout_from(rows[0]);
}

void RunStore::stop_fanouts(pqxx::work& tx, const std::string& run_id) {
    tx.exec_params0(
        "UPDATE step_fanouts SET stopping = true, updated_at = now() "
        "WHERE run_id = $1::uuid AND NOT stopping",
        run_id);
}

std::pair<std::int64_t, std::int64_t> RunStore::count_item_outcomes(pqxx::work& tx,
                                                                    const std::string& run_id,
                                                                    const std::string& step_id) {
    auto r = tx.exec_params1(
        "WITH c AS (SELECT count(*) FILTER (WHERE status IN ('succeeded', 'compensated')) AS ok, "
        "count(*) FILTER (WHERE status IN ('failed', 'continued')) AS bad FROM step_runs "
        "WHERE run_id = $1::uuid AND step_id = $2 AND item_index >= 0) "
        "UPDATE step_fanouts x SET succeeded_count = c.ok, failed_count = c.bad, "
        "updated_at = now() FROM c WHERE x.run_id = $1::uuid AND x.step_id = $2 "
        "RETURNING c.ok, c.bad",
        run_id, step_id);
    return {r[0].as<std::int64_t>(), r[1].as<std::int64_t>()};
}

nlohmann::json RunStore::item_results(pqxx::transaction_base& tx, const std::string& run_id,
                                      const std::string& step_id) {
    auto r = tx.exec_params1(
        "SELECT coalesce(jsonb_agg(CASE WHEN status = 'succeeded' THEN outputs END "
        "ORDER BY item_index), '[]')::text FROM step_runs "
        "WHERE run_id = $1::uuid AND step_id = $2 AND item_index >= 0",
        run_id, step_id);
    return nlohmann::json::parse(r[0].as<std::string>());
}

std::string RunStore::first_item_error(pqxx::transaction_base& tx, const std::string& run_id,
                                       const std::string& step_id) {
    auto rows = tx.exec_params(
        "SELECT item_index, coalesce(error, '') FROM step_runs WHERE run_id = $1::uuid "
        "AND step_id = $2 AND item_index >= 0 AND status IN ('failed', 'continued') "
        "ORDER BY item_index LIMIT 1",
        run_id, step_id);
    if (rows.empty()) return "";
    return "item " + rows[0][0].as<std::string>() + ": " + rows[0][1].as<std::string>();
}

// --- collections -----------------------------------------------------------------------

std::string RunStore::create_collection_from_query(pqxx::work& tx, const std::string& run_id,
                                                   const std::string& select_sql) {
    std::string id = new_id();
    tx.exec_params0(
        "INSERT INTO collections (id, run_id, item_count) VALUES ($1::uuid, $2::uuid, 0)", id,
        opt(run_id));
    auto r = tx.exec_params(
        "INSERT INTO collection_items (collection_id, idx, item) "
        "SELECT $1::uuid, row_number() OVER () - 1, to_jsonb(q.item) FROM (" + select_sql +
            ") AS q(item)",
        id);
    tx.exec_params0("UPDATE collections SET item_count = $2 WHERE id = $1::uuid", id,
                    static_cast<long long>(r.affected_rows()));
    return id;
}

std::string RunStore::create_collection(pqxx::work& tx, const std::string& run_id,
                                        const nlohmann::json& items) {
    std::string id = new_id();
    tx.exec_params0(
        "INSERT INTO collections (id, run_id, item_count) VALUES ($1::uuid, $2::uuid, $3)", id,
        opt(run_id), static_cast<long long>(items.size()));
    tx.exec_params0(
        "INSERT INTO collection_items (collection_id, idx, item) "
        "SELECT $1::uuid, e.n - 1, e.v FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY "
        "AS e(v, n)",
        id, items.dump());
    return id;
}

std::optional<std::pair<std::string, std::int64_t>> RunStore::find_collection(
    pqxx::transaction_base& tx, const std::string& id) {
    auto rows = tx.exec_params(
        "SELECT coalesce(run_id::text, ''), item_count FROM collections WHERE id = $1::uuid", id);
    if (rows.empty()) return std::nullopt;
    return std::make_pair(rows[0][0].as<std::string>(), rows[0][1].as<std::int64_t>());
}

// --- waits and events ------------------------------------------------------------------

void RunStore::lock_event_key(pqxx::work& tx, const std::string& event, const std::string& key) {
    tx.exec_params("SELECT pg_advisory_xact_lock(hashtextextended($1 || chr(31) || $2, 41))",
                    event, key);
}

void RunStore::insert_wait(pqxx::work& tx, const WaitRow& w) {
    tx.exec_params0(
        "INSERT INTO run_waits (id, run_id, step_id, item_index, event, key, timeout_at, "
        "resolved_at, outcome, payload) VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6, "
        "CASE WHEN $7::bigint > 0 THEN to_timestamp($7::bigint / 1000.0) END, "
        "CASE WHEN $8 <> '' THEN now() END, nullif($8, ''), $9::jsonb) "
        "ON CONFLICT (run_id, step_id, item_index) DO UPDATE SET id = EXCLUDED.id, "
        "event = EXCLUDED.event, key = EXCLUDED.key, timeout_at = EXCLUDED.timeout_at, "
        "created_at = now(), resolved_at = EXCLUDED.resolved_at, outcome = EXCLUDED.outcome, "
        "payload = EXCLUDED.payload",
        w.id, w.run_id, w.step_id, w.item_index, w.event, w.key, w.timeout_ms, w.outcome,
        opt_json(w.payload));
}

std::optional<WaitRow> RunStore::find_wait(pqxx::transaction_base& tx, const std::string& run_id,
                                           const std::string& step_id, int item_index) {
    static const std::string sql = "SELECT " + kWaitColumns +
                                   " FROM run_waits WHERE run_id = $1::uuid AND step_id = $2 "
                                   "AND item_index = $3";
    auto rows = exec_prepared(tx, "aa_find_wait", sql, run_id, step_id, item_index);
    if (rows.empty()) return std::nullopt;
    return wait_from(rows[0]);
}

bool RunStore::resolve_wait(pqxx::work& tx, const std::string& wait_id, const std::string& outcome,
                            const nlohmann::json& payload) {
    auto r = tx.exec_params(
        "UPDATE run_waits SET resolved_at = now(), outcome = $2, payload = $3::jsonb "
        "WHERE id = $1::uuid AND resolved_at IS NULL",
        wait_id, outcome, opt_json(payload));
    return r.affected_rows() == 1;
}

std::vector<WaitRow> RunStore::resolve_waits_for_event(pqxx::work& tx, const std::string& event,
                                                       const std::string& key,
                                                       const nlohmann::json& payload) {
    auto rows = tx.exec_params(
        "WITH w AS (UPDATE run_waits SET resolved_at = now(), outcome = 'event', "
        "payload = $3::jsonb WHERE event = $1 AND key = $2 AND resolved_at IS NULL RETURNING *) "
        "SELECT w.id::text, w.run_id::text, w.step_id, w.item_index, w.event, w.key, "
        "coalesce((extract(epoch from w.timeout_at) * 1000)::bigint, 0), true, w.outcome, "
        "coalesce(w.payload::text, 'null'), coalesce(s.attempt, 0) FROM w "
        "LEFT JOIN step_runs s ON s.run_id = w.run_id AND s.step_id = w.step_id "
        "AND s.item_index = w.item_index ORDER BY w.id",
        event, key, payload.dump());
    std::vector<WaitRow> out;
    for (const auto& r : rows) {
        out.push_back(wait_from(r));
        out.back().step_attempt = r[10].as<int>();
    }
    return out;
}

void RunStore::cancel_waits(pqxx::work& tx, const std::string& run_id) {
    tx.exec_params0(
        "UPDATE run_waits SET resolved_at = now(), outcome = 'cancelled' "
        "WHERE run_id = $1::uuid AND resolved_at IS NULL",
        run_id);
}

std::string RunStore::insert_event(pqxx::work& tx, const std::string& name, const std::string& key,
                                   const nlohmann::json& payload) {
    std::string id = new_id();
    tx.exec_params0(
        "INSERT INTO workflow_events (id, name, key, payload) VALUES ($1::uuid, $2, $3, $4::jsonb)",
        id, name, key, payload.dump());
    return id;
}

std::optional<nlohmann::json> RunStore::find_event_since_run(pqxx::transaction_base& tx,
                                                             const std::string& name,
                                                             const std::string& key,
                                                             const std::string& run_id) {
    auto rows = tx.exec_params(
        "SELECT e.payload::text FROM workflow_events e, workflow_runs r "
        "WHERE r.id = $3::uuid AND e.name = $1 AND e.key = $2 AND e.created_at >= r.created_at "
        "ORDER BY e.created_at, e.id LIMIT 1",
        name, key, run_id);
    if (rows.empty()) return std::nullopt;
    return nlohmann::json::parse(rows[0][0].as<std::string>());
}

// --- concurrency -----------------------------------------------------------------------

void RunStore::lock_concurrency_key(pqxx::work& tx, const std::string& key) {
    tx.exec_params("SELECT pg_advisory_xact_lock(hashtextextended($1, 42))", key);
}

long long RunStore::count_active_runs(pqxx::transaction_base& tx, const std::string& key) {
    return tx
        .exec_params1(
            "SELECT count(*) FROM workflow_runs WHERE concurrency_key = $1 AND status IN "
            "('running', 'waiting', 'failing', 'cancelling')",
            key)[0]
        .as<long long>();
}

std::vector<std::string> RunStore::pending_runs(pqxx::transaction_base& tx, const std::string& key,
                                                int limit) {
    auto rows = tx.exec_params(
        "SELECT id::text FROM workflow_runs WHERE concurrency_key = $1 AND status = 'pending' "
        "ORDER BY created_at, id LIMIT $2",
        key, limit);
    std::vector<std::string> out;
    for (const auto& r : rows) out.push_back(r[0].as<std::string>());
    return out;
}

std::vector<std::string> RunStore::keys_with_pending_runs(pqxx::transaction_base& tx, int limit) {
    auto rows = tx.exec_params(
        "SELECT DISTINCT concurrency_key FROM workflow_runs WHERE status = 'pending' "
        "AND concurrency_key IS NOT NULL LIMIT $1",
        limit);
    std::vector<std::string> out;
    for (const auto& r : rows) out.push_back(r[0].as<std::string>());
    return out;
}

}  // namespace artistsaid::store
