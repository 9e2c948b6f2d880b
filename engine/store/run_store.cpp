#include "engine/store/run_store.hpp"

namespace artistsaid::store {
namespace {

constexpr const char* kIso = "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'";

std::string iso(const std::string& column) {
    return "coalesce(to_char(" + column + " AT TIME ZONE 'UTC', " + kIso + "), '')";
}

const std::string kRunColumns =
    "id::text, workflow_name, workflow_version, definition::text, inputs::text, "
    "coalesce(outputs::text, 'null'), status, trigger_kind, coalesce(trigger_ref, ''), "
    "coalesce(dedupe_key, ''), coalesce(concurrency_key, ''), coalesce(error, ''), " +
    iso("created_at") + ", " + iso("started_at") + ", " + iso("finished_at");

const std::string kStepColumns =
    "id::text, run_id::text, step_id, item_index, status, attempt, idempotency_key, "
    "coalesce(inputs::text, 'null'), coalesce(outputs::text, 'null'), coalesce(error, ''), " +
    iso("next_attempt_at") +
    ", coalesce((extract(epoch from next_attempt_at) * 1000)::bigint, 0), " +
    iso("started_at") + ", " + iso("finished_at");

RunRow run_from(const pqxx::row& r) {
    RunRow run;
    run.id = r[0].as<std::string>();
    run.workflow_name = r[1].as<std::string>();
    run.workflow_version = r[2].as<int>();
    run.definition = nlohmann::json::parse(r[3].as<std::string>());
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
    return s;
}

std::optional<std::string> opt(const std::string& s) {
    if (s.empty()) return std::nullopt;
    return s;
}

bool is_final(const std::string& status) {
    return status == "succeeded" || status == "failed" || status == "continued" ||
           status == "skipped" || status == "cancelled" || status == "compensated";
}

}  // namespace

void RunStore::insert_run(pqxx::work& tx, const RunRow& run) {
    tx.exec_params0(
        "INSERT INTO workflow_runs (id, workflow_name, workflow_version, definition, inputs, "
        "status, trigger_kind, trigger_ref, dedupe_key, concurrency_key, started_at) "
        "VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7, $8, $9, $10, "
        "CASE WHEN $6 = 'running' THEN now() END)",
        run.id, run.workflow_name, run.workflow_version, run.definition.dump(), run.inputs.dump(),
        run.status, run.trigger_kind, opt(run.trigger_ref), opt(run.dedupe_key),
        opt(run.concurrency_key));
}

std::optional<RunRow> RunStore::lock_run(pqxx::work& tx, const std::string& id) {
    auto rows = tx.exec_params("SELECT " + kRunColumns +
                                   " FROM workflow_runs WHERE id = $1::uuid FOR UPDATE",
                               id);
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
    tx.exec_params0(
        "UPDATE workflow_runs SET status = $2, error = $3, updated_at = now(), "
        "started_at = coalesce(started_at, CASE WHEN $2 = 'running' THEN now() END), "
        "finished_at = CASE WHEN $2 IN ('succeeded', 'failed', 'cancelled') THEN now() "
        "ELSE finished_at END WHERE id = $1::uuid",
        id, status, opt(error));
}

void RunStore::insert_steps(pqxx::work& tx, const std::vector<StepRow>& steps) {
    if (steps.empty()) return;
    // One statement for all rows (fast for wide fan-outs): libpqxx 6 has no array
    // parameters, so the rows travel as one JSON array.
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& s : steps)
        rows.push_back({{"id", s.id},
                        {"run_id", s.run_id},
                        {"step_id", s.step_id},
                        {"item_index", s.item_index},
                        {"status", s.status},
                        {"idempotency_key", s.idempotency_key}});
    tx.exec_params0(
        "INSERT INTO step_runs (id, run_id, step_id, item_index, status, idempotency_key) "
        "SELECT id, run_id, step_id, item_index, status, idempotency_key "
        "FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, run_id uuid, step_id text, "
        "item_index int, status text, idempotency_key text)",
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

std::optional<StepRow> RunStore::lock_step(pqxx::work& tx, const std::string& run_id,
                                           const std::string& step_id, int item_index) {
    auto rows = tx.exec_params("SELECT " + kStepColumns +
                                   " FROM step_runs WHERE run_id = $1::uuid AND step_id = $2 "
                                   "AND item_index = $3 FOR UPDATE",
                               run_id, step_id, item_index);
    if (rows.empty()) return std::nullopt;
    return step_from(rows[0]);
}

void RunStore::update_step(pqxx::work& tx, const StepRow& s) {
    tx.exec_params0(
        "UPDATE step_runs SET status = $2, attempt = $3, inputs = $4::jsonb, outputs = $5::jsonb, "
        "error = $6, updated_at = now(), "
        "next_attempt_at = CASE WHEN $7::bigint > 0 THEN to_timestamp($7::bigint / 1000.0) END, "
        "started_at = CASE WHEN $2 = 'running' THEN coalesce(started_at, now()) ELSE started_at END, "
        "finished_at = CASE WHEN $8 THEN now() ELSE NULL END "
        "WHERE id = $1::uuid",
        s.id, s.status, s.attempt, s.inputs.is_null() ? std::optional<std::string>() : s.inputs.dump(),
        s.outputs.is_null() ? std::optional<std::string>() : s.outputs.dump(), opt(s.error),
        s.next_attempt_ms, is_final(s.status));
}

void RunStore::set_steps_status(pqxx::work& tx, const std::string& run_id,
                                const std::vector<std::string>& step_ids,
                                const std::string& status) {
    if (step_ids.empty()) return;
    tx.exec_params0(
        "UPDATE step_runs SET status = $3, updated_at = now() "
        "WHERE run_id = $1::uuid AND step_id IN (SELECT jsonb_array_elements_text($2::jsonb))",
        run_id, nlohmann::json(step_ids).dump(), status);
}

void RunStore::add_event(pqxx::work& tx, const std::string& run_id, const std::string& kind,
                         const nlohmann::json& payload, const std::string& step_row_id) {
    tx.exec_params0(
        "INSERT INTO run_events (id, run_id, step_run_id, kind, payload) "
        "VALUES (gen_random_uuid(), $1::uuid, $2::uuid, $3, $4::jsonb)",
        run_id, opt(step_row_id), kind, payload.dump());
}

std::vector<std::string> RunStore::active_run_ids(pqxx::transaction_base& tx, int limit) {
    auto rows = tx.exec_params(
        "SELECT id::text FROM workflow_runs WHERE status IN ('running', 'waiting') "
        "ORDER BY id LIMIT $1",
        limit);
    std::vector<std::string> out;
    for (const auto& r : rows) out.push_back(r[0].as<std::string>());
    return out;
}

}  // namespace artistsaid::store
