#include "engine/store/run_write_buffer.hpp"

#include "engine/core/error.hpp"
#include "engine/core/id.hpp"
#include "engine/store/pg_array_literal.hpp"

namespace artistsaid::store {
namespace {

bool is_final(const std::string& status) {
    return status == "succeeded" || status == "failed" || status == "continued" ||
           status == "skipped" || status == "cancelled" || status == "compensated";
}

// Appends `value` as a JSON string (quoted, escaped).
void append_json_string(std::string& out, std::string_view value) {
    static const char* kHex = "0123456789abcdef";
    out.push_back('"');
    for (char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(c);
        } else if (u < 0x20) {
            out.append("\\u00");
            out.push_back(kHex[u >> 4]);
            out.push_back(kHex[u & 15]);
        } else {
            out.push_back(c);
        }
    }
    out.push_back('"');
}

// One statement: the runs, then their steps, then their events (foreign keys are checked
// at the end of the statement, when all three are in). Each column travels as one array
// parameter (PgArrayLiteral), zipped back into rows by unnest. Events keep their order:
// run_events is read by (run_id, created_at, id) and the ids were drawn in order; a run's
// several events are one 'batch' row (run_event_log expands it), their order kept in its
// array.
const char* kFlushSql =
    "WITH r AS (INSERT INTO workflow_runs (id, workflow_name, workflow_version, definition, "
    "inputs, outputs, status, trigger_kind, trigger_ref, dedupe_key, concurrency_key, "
    "parent_run_id, parent_step, error, failed_step, started_at, finished_at, definition_id) "
    "SELECT x.id, x.workflow_name, x.workflow_version, x.definition, "
    "coalesce(x.inputs, '{}'::jsonb), x.outputs, x.status, x.trigger_kind, x.trigger_ref, "
    "x.dedupe_key, x.concurrency_key, x.parent_run_id, x.parent_step, x.error, x.failed_step, "
    "CASE WHEN x.started THEN now() END, CASE WHEN x.finished THEN now() END, x.definition_id "
    "FROM unnest($1::uuid[], $2::text[], $3::int[], $4::jsonb[], $5::jsonb[], $6::jsonb[], "
    "$7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::uuid[], $13::text[], "
    "$14::text[], $15::text[], $16::boolean[], $17::boolean[], $18::bigint[]) "
    "AS x(id, workflow_name, workflow_version, definition, inputs, outputs, status, "
    "trigger_kind, trigger_ref, dedupe_key, concurrency_key, parent_run_id, parent_step, "
    "error, failed_step, started, finished, definition_id) "
    "RETURNING 1), "
    "s AS (INSERT INTO step_runs (id, run_id, step_id, item_index, status, attempt, "
    "idempotency_key, inputs, outputs, error, next_attempt_at, started_at, finished_at) "
    "SELECT x.id, x.run_id, x.step_id, -1, x.status, x.attempt, x.idempotency_key, x.inputs, "
    "x.outputs, x.error, CASE WHEN x.next_attempt_ms > 0 THEN "
    "to_timestamp(x.next_attempt_ms / 1000.0) END, CASE WHEN x.started THEN now() END, "
    "CASE WHEN x.finished THEN now() END "
    "FROM unnest($19::uuid[], $20::uuid[], $21::text[], $22::text[], $23::int[], $24::text[], "
    "$25::jsonb[], $26::jsonb[], $27::text[], $28::bigint[], $29::boolean[], $30::boolean[]) "
    "AS x(id, run_id, step_id, status, attempt, idempotency_key, inputs, outputs, error, "
    "next_attempt_ms, started, finished) RETURNING 1), "
    "e AS (INSERT INTO run_events (id, run_id, step_run_id, kind, payload) "
    "SELECT x.id, x.run_id, x.step_run_id, x.kind, x.payload "
    "FROM unnest($31::uuid[], $32::uuid[], $33::uuid[], $34::text[], $35::jsonb[]) "
    "WITH ORDINALITY AS x(id, run_id, step_run_id, kind, payload, n) "
    "ORDER BY x.n RETURNING 1) "
    "SELECT (SELECT count(*) FROM r), (SELECT count(*) FROM s), (SELECT count(*) FROM e)";

}  // namespace

void RunWriteBuffer::add_run(const RunRow& run, const std::vector<StepRow>& steps,
                             const std::string& event, const nlohmann::json& payload) {
    if (holds(run.id)) throw Error(ErrorCode::kInternal, "run " + run.id + " is buffered twice");
    Run r;
    r.row = run;
    r.started = run.status == "running";
    r.steps.reserve(steps.size());
    for (const auto& s : steps) r.steps.push_back(Step{s, false, false});
    r.events.push_back(Event{new_id(), std::string(), event, payload.dump()});
    runs_.emplace(run.id, std::move(r));
    order_.push_back(run.id);
}

RunWriteBuffer::Step& RunWriteBuffer::step(const std::string& run_id, const std::string& row_id,
                                           Run** run) {
    auto it = runs_.find(run_id);
    if (it != runs_.end())
        for (auto& s : it->second.steps)
            if (s.row.id == row_id) {
                *run = &it->second;
                return s;
            }
    throw Error(ErrorCode::kInternal, "step row " + row_id + " of run " + run_id +
                                          " is not in the write buffer");
}

void RunWriteBuffer::record_step(const StepRow& row, const nlohmann::json& events) {
    Run* run = nullptr;
    Step& s = step(row.run_id, row.id, &run);
    const bool final = is_final(row.status);
    const int item_index = s.row.item_index;
    s.row = row;
    s.row.item_index = item_index;
    s.started = s.started || row.status == "running" || final;
    s.finished = final;  // record_step clears finished_at of a row that is not final
    for (const auto& e : events)
        run->events.push_back(
            Event{new_id(), row.id, e.at("kind").get<std::string>(), e.at("payload").dump()});
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
    std::string payload = "{\"error\":";
    if (error.empty())
        payload += "null";
    else
        append_json_string(payload, error);
    payload += '}';
    it->second.events.push_back(Event{new_id(), std::string(), "run." + status, std::move(payload)});
}

void RunWriteBuffer::flush(pqxx::work& tx) {
    if (runs_.empty()) return;
    // Runs, step rows and events, one array per column (the order of kFlushSql's parameters).
    PgArrayLiteral r_id, r_name, r_version, r_definition, r_inputs, r_outputs, r_status,
        r_trigger_kind, r_trigger_ref, r_dedupe_key, r_concurrency_key, r_parent_run_id,
        r_parent_step, r_error, r_failed_step, r_started, r_finished, r_definition_id;
    PgArrayLiteral s_id, s_run_id, s_step_id, s_status, s_attempt, s_idempotency_key, s_inputs,
        s_outputs, s_error, s_next_attempt_ms, s_started, s_finished;
    PgArrayLiteral e_id, e_run_id, e_step_run_id, e_kind, e_payload;
    std::string batch;
    for (const auto& id : order_) {
        const Run& r = runs_.at(id);
        const RunRow& row = r.row;
        r_id.add(row.id);
        r_name.add(row.workflow_name);
        r_version.add(static_cast<long long>(row.workflow_version));
        // The shared snapshot when there is one, else a copy.
        if (row.definition_id) {
            r_definition.add_null();
            r_definition_id.add(static_cast<long long>(*row.definition_id));
        } else {
            r_definition.add_json(row.definition);
            r_definition_id.add_null();
        }
        r_inputs.add_json(row.inputs);
        r_outputs.add_json(row.outputs);
        r_status.add(row.status);
        r_trigger_kind.add(row.trigger_kind);
        r_trigger_ref.add_or_null(row.trigger_ref);
        r_dedupe_key.add_or_null(row.dedupe_key);
        r_concurrency_key.add_or_null(row.concurrency_key);
        r_parent_run_id.add_or_null(row.parent_run_id);
        r_parent_step.add_or_null(row.parent_step);
        r_error.add_or_null(row.error);
        r_failed_step.add_or_null(row.failed_step);
        r_started.add(r.started);
        r_finished.add(r.finished);
        for (const auto& s : r.steps) {
            s_id.add(s.row.id);
            s_run_id.add(row.id);
            s_step_id.add(s.row.step_id);
            s_status.add(s.row.status);
            s_attempt.add(static_cast<long long>(s.row.attempt));
            s_idempotency_key.add(s.row.idempotency_key);
            s_inputs.add_json(s.row.inputs);
            s_outputs.add_json(s.row.outputs);
            s_error.add_or_null(s.row.error);
            s_next_attempt_ms.add(s.row.next_attempt_ms);
            s_started.add(s.started);
            s_finished.add(s.finished);
        }
        // A run's events become one 'batch' row when there are several (see
        // 0014_run_rows.sql: read through the view run_event_log), in the order they
        // happened: {"events": [{"id", "kind", "step_run_id", "payload"}, ...]}.
        if (r.events.size() == 1) {
            const Event& e = r.events.front();
            e_id.add(e.id);
            e_step_run_id.add_or_null(e.step_run_id);
            e_kind.add(e.kind);
            e_payload.add(e.payload);
        } else {
            batch.assign("{\"events\":[");
            for (size_t i = 0; i < r.events.size(); ++i) {
                const Event& e = r.events[i];
                if (i != 0) batch.push_back(',');
                batch.append("{\"id\":");
                append_json_string(batch, e.id);
                batch.append(",\"kind\":");
                append_json_string(batch, e.kind);
                if (!e.step_run_id.empty()) {
                    batch.append(",\"step_run_id\":");
                    append_json_string(batch, e.step_run_id);
                }
                batch.append(",\"payload\":");
                batch.append(e.payload);
                batch.push_back('}');
            }
            batch.append("]}");
            e_id.add(new_id());
            e_step_run_id.add_null();
            e_kind.add("batch");
            e_payload.add(batch);
        }
        e_run_id.add(row.id);
    }
    clear();
    tx.conn().prepare("aa_flush_runs", kFlushSql);
    tx.exec_prepared("aa_flush_runs", r_id.release(), r_name.release(), r_version.release(),
                     r_definition.release(), r_inputs.release(), r_outputs.release(),
                     r_status.release(), r_trigger_kind.release(), r_trigger_ref.release(),
                     r_dedupe_key.release(), r_concurrency_key.release(),
                     r_parent_run_id.release(), r_parent_step.release(), r_error.release(),
                     r_failed_step.release(), r_started.release(), r_finished.release(),
                     r_definition_id.release(), s_id.release(), s_run_id.release(),
                     s_step_id.release(), s_status.release(), s_attempt.release(),
                     s_idempotency_key.release(), s_inputs.release(), s_outputs.release(),
                     s_error.release(), s_next_attempt_ms.release(), s_started.release(),
                     s_finished.release(), e_id.release(), e_run_id.release(),
                     e_step_run_id.release(), e_kind.release(), e_payload.release());
}

void RunWriteBuffer::clear() noexcept {
    runs_.clear();
    order_.clear();
}

}  // namespace artistsaid::store
