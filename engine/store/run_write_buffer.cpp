#include "engine/store/run_write_buffer.hpp"

#include "engine/core/error.hpp"
#include "engine/core/id.hpp"

namespace artistsaid::store {
namespace {

bool is_final(const std::string& status) {
    return status == "succeeded" || status == "failed" || status == "continued" ||
           status == "skipped" || status == "cancelled" || status == "compensated";
}

// Absent keys read as NULL in jsonb_to_recordset.
void put(nlohmann::json& object, const char* key, const std::string& value) {
    if (!value.empty()) object[key] = value;
}
void put_json(nlohmann::json& object, const char* key, const nlohmann::json& value) {
    if (!value.is_null()) object[key] = value;
}

// One statement: the runs, then their steps, then their events (foreign keys are checked
// at the end of the statement, when all three are in). Events keep their order: run_events
// is read by (run_id, created_at, id) and the ids were drawn in order; a run's several
// events are one 'batch' row (run_event_log expands it), their order kept in its array.
const char* kFlushSql =
    "WITH r AS (INSERT INTO workflow_runs (id, workflow_name, workflow_version, definition, "
    "inputs, outputs, status, trigger_kind, trigger_ref, dedupe_key, concurrency_key, "
    "parent_run_id, parent_step, error, failed_step, started_at, finished_at, definition_id) "
    "SELECT x.id, x.workflow_name, x.workflow_version, x.definition, "
    "coalesce(x.inputs, '{}'::jsonb), x.outputs, x.status, x.trigger_kind, x.trigger_ref, "
    "x.dedupe_key, x.concurrency_key, x.parent_run_id, x.parent_step, x.error, x.failed_step, "
    "CASE WHEN x.started THEN now() END, CASE WHEN x.finished THEN now() END, x.definition_id "
    "FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, workflow_name text, workflow_version int, "
    "definition jsonb, inputs jsonb, outputs jsonb, status text, trigger_kind text, "
    "trigger_ref text, dedupe_key text, concurrency_key text, parent_run_id uuid, "
    "parent_step text, error text, failed_step text, started boolean, finished boolean, "
    "definition_id bigint) "
    "RETURNING 1), "
    "s AS (INSERT INTO step_runs (id, run_id, step_id, item_index, status, attempt, "
    "idempotency_key, inputs, outputs, error, next_attempt_at, started_at, finished_at) "
    "SELECT x.id, x.run_id, x.step_id, -1, x.status, x.attempt, x.idempotency_key, x.inputs, "
    "x.outputs, x.error, CASE WHEN x.next_attempt_ms > 0 THEN "
    "to_timestamp(x.next_attempt_ms / 1000.0) END, CASE WHEN x.started THEN now() END, "
    "CASE WHEN x.finished THEN now() END "
    "FROM jsonb_to_recordset($2::jsonb) AS x(id uuid, run_id uuid, step_id text, status text, "
    "attempt int, idempotency_key text, inputs jsonb, outputs jsonb, error text, "
    "next_attempt_ms bigint, started boolean, finished boolean) RETURNING 1), "
    "e AS (INSERT INTO run_events (id, run_id, step_run_id, kind, payload) "
    "SELECT x.id, x.run_id, x.step_run_id, x.kind, coalesce(x.payload, '{}'::jsonb) "
    "FROM ROWS FROM (jsonb_to_recordset($3::jsonb) AS (id uuid, run_id uuid, step_run_id uuid, "
    "kind text, payload jsonb)) WITH ORDINALITY AS x(id, run_id, step_run_id, kind, payload, n) "
    "ORDER BY x.n RETURNING 1) "
    "SELECT (SELECT count(*) FROM r), (SELECT count(*) FROM s), (SELECT count(*) FROM e)";

}  // namespace

void RunWriteBuffer::add_run(const RunRow& run, const std::vector<StepRow>& steps,
                             const std::string& event, const nlohmann::json& payload) {
    if (holds(run.id)) throw Error(ErrorCode::kInternal, "run " + run.id + " is buffered twice");
    Run r;
    r.row = run;
    r.started = run.status == "running";
    for (const auto& s : steps) r.steps.push_back(Step{s, false, false});
    runs_.emplace(run.id, std::move(r));
    order_.push_back(run.id);
    events_.push_back({{"id", new_id()}, {"run_id", run.id}, {"kind", event}, {"payload", payload}});
}

RunWriteBuffer::Step& RunWriteBuffer::step(const std::string& run_id, const std::string& row_id) {
    auto it = runs_.find(run_id);
    if (it != runs_.end())
        for (auto& s : it->second.steps)
            if (s.row.id == row_id) return s;
    throw Error(ErrorCode::kInternal, "step row " + row_id + " of run " + run_id +
                                          " is not in the write buffer");
}

void RunWriteBuffer::record_step(const StepRow& row, const nlohmann::json& events) {
    Step& s = step(row.run_id, row.id);
    const bool final = is_final(row.status);
    const int item_index = s.row.item_index;
    s.row = row;
    s.row.item_index = item_index;
    s.started = s.started || row.status == "running" || final;
    s.finished = final;  // record_step clears finished_at of a row that is not final
    for (const auto& e : events)
        events_.push_back({{"id", new_id()},
                           {"run_id", row.run_id},
                           {"step_run_id", row.id},
                           {"kind", e.at("kind")},
                           {"payload", e.at("payload")}});
}

void RunWriteBuffer::set_steps_status(const std::string& run_id,
                                      const std::vector<std::string>& step_ids,
                                      const std::string& status) {
    auto it = runs_.find(run_id);
    if (it == runs_.end())
        throw Error(ErrorCode::kInternal, "run " + run_id + " is not in the write buffer");
    for (auto& s : it->second.steps) {
        if (s.row.item_index != -1) continue;
        for (const auto& id : step_ids) {
            if (s.row.step_id != id) continue;
            s.row.status = status;
            s.finished = s.finished || is_final(status);
        }
    }
}

void RunWriteBuffer::finish_run(const std::string& run_id, const std::string& status,
                                const std::string& error, const nlohmann::json& outputs) {
    auto it = runs_.find(run_id);
    if (it == runs_.end())
        throw Error(ErrorCode::kInternal, "run " + run_id + " is not in the write buffer");
    RunRow& run = it->second.row;
    run.status = status;
    if (!error.empty()) run.error = error;
    if (!outputs.is_null()) run.outputs = outputs;
    it->second.finished = true;
    events_.push_back({{"id", new_id()},
                       {"run_id", run_id},
                       {"kind", "run." + status},
                       {"payload", {{"error", error.empty() ? nlohmann::json() : nlohmann::json(error)}}}});
}

void RunWriteBuffer::flush(pqxx::work& tx) {
    if (runs_.empty()) return;
    nlohmann::json runs = nlohmann::json::array(), steps = nlohmann::json::array();
    for (const auto& id : order_) {
        const Run& r = runs_.at(id);
        nlohmann::json j = {{"id", r.row.id},
                            {"workflow_name", r.row.workflow_name},
                            {"workflow_version", r.row.workflow_version},
                            {"status", r.row.status},
                            {"trigger_kind", r.row.trigger_kind},
                            {"started", r.started},
                            {"finished", r.finished}};
        // The shared snapshot when there is one, else a copy.
        if (r.row.definition_id)
            j["definition_id"] = *r.row.definition_id;
        else
            j["definition"] = r.row.definition;
        put_json(j, "inputs", r.row.inputs);
        put_json(j, "outputs", r.row.outputs);
        put(j, "trigger_ref", r.row.trigger_ref);
        put(j, "dedupe_key", r.row.dedupe_key);
        put(j, "concurrency_key", r.row.concurrency_key);
        put(j, "parent_run_id", r.row.parent_run_id);
        put(j, "parent_step", r.row.parent_step);
        put(j, "error", r.row.error);
        put(j, "failed_step", r.row.failed_step);
        runs.push_back(std::move(j));
        for (const auto& s : r.steps) {
            nlohmann::json k = {{"id", s.row.id},
                                {"run_id", r.row.id},
                                {"step_id", s.row.step_id},
                                {"status", s.row.status},
                                {"attempt", s.row.attempt},
                                {"idempotency_key", s.row.idempotency_key},
                                {"next_attempt_ms", s.row.next_attempt_ms},
                                {"started", s.started},
                                {"finished", s.finished}};
            put_json(k, "inputs", s.row.inputs);
            put_json(k, "outputs", s.row.outputs);
            put(k, "error", s.row.error);
            steps.push_back(std::move(k));
        }
    }
    // A run's events become one 'batch' row when there are several (see 0014_run_rows.sql:
    // read through the view run_event_log), in the order they happened.
    nlohmann::json events = nlohmann::json::array();
    {
        std::unordered_map<std::string, nlohmann::json> by_run;
        std::vector<std::string> run_order;
        for (auto& e : events_) {
            const std::string& run_id = e["run_id"].get_ref<const std::string&>();
            auto [it, inserted] = by_run.try_emplace(run_id, nlohmann::json::array());
            if (inserted) run_order.push_back(run_id);
            it->second.push_back(std::move(e));
        }
        for (const auto& run_id : run_order) {
            nlohmann::json& list = by_run.at(run_id);
            if (list.size() == 1) {
                events.push_back(std::move(list[0]));
                continue;
            }
            for (auto& e : list) e.erase("run_id");
            events.push_back({{"id", new_id()},
                              {"run_id", run_id},
                              {"kind", "batch"},
                              {"payload", {{"events", std::move(list)}}}});
        }
    }
    clear();
    tx.conn().prepare("aa_flush_runs", kFlushSql);
    tx.exec_prepared("aa_flush_runs", runs.dump(), steps.dump(), events.dump());
}

void RunWriteBuffer::clear() noexcept {
    runs_.clear();
    order_.clear();
    events_ = nlohmann::json::array();
}

}  // namespace artistsaid::store
