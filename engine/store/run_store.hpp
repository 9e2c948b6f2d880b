// PostgreSQL access for workflow runs, their steps and events (tables workflow_runs,
// step_runs, run_events). Every function works inside the caller's transaction, so the
// run-time decides what commits together (a step's result and the next steps it
// unlocks). Rows are plain structs with JSON where the table has jsonb.
// Thread-safety: stateless; the transaction belongs to one thread.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace artistsaid::store {

struct RunRow {
    std::string id;
    std::string workflow_name;
    int workflow_version = 1;
    nlohmann::json definition;   // {"source": yaml, "file": path, "checksum": sha256}
    nlohmann::json inputs = nlohmann::json::object();
    nlohmann::json outputs;
    std::string status = "pending";
    std::string trigger_kind = "cli";
    std::string trigger_ref;
    std::string dedupe_key;
    std::string concurrency_key;
    std::string error;
    std::string created_at, started_at, finished_at;  // ISO 8601 UTC, empty if unset
};

struct StepRow {
    std::string id;
    std::string run_id;
    std::string step_id;
    int item_index = -1;
    std::string status = "pending";
    int attempt = 0;
    std::string idempotency_key;
    nlohmann::json inputs;
    nlohmann::json outputs;
    std::string error;
    std::string next_attempt_at;  // ISO 8601 UTC, empty if unset
    long long next_attempt_ms = 0;
    std::string started_at, finished_at;
};

struct RunFilter {
    std::string status;
    std::string workflow;
    int limit = 50;
};

class RunStore {
public:
    static void insert_run(pqxx::work& tx, const RunRow& run);
    /// The run, locked FOR UPDATE (serialises everything that advances one run).
    static std::optional<RunRow> lock_run(pqxx::work& tx, const std::string& id);
    static std::optional<RunRow> find_run(pqxx::transaction_base& tx, const std::string& id);
    /// The run started with this trigger dedupe key, if any.
    static std::optional<std::string> find_by_dedupe_key(pqxx::transaction_base& tx,
                                                         const std::string& key);
    static std::vector<RunRow> list_runs(pqxx::transaction_base& tx, const RunFilter& filter);
    static void set_run_status(pqxx::work& tx, const std::string& id, const std::string& status,
                               const std::string& error = "");

    static void insert_steps(pqxx::work& tx, const std::vector<StepRow>& steps);
    static std::vector<StepRow> steps_of(pqxx::transaction_base& tx, const std::string& run_id);
    static std::optional<StepRow> lock_step(pqxx::work& tx, const std::string& run_id,
                                            const std::string& step_id, int item_index);
    /// Writes status, attempt, inputs, outputs, error, next_attempt (ms since epoch; 0
    /// clears it) and the start/finish times implied by the status.
    static void update_step(pqxx::work& tx, const StepRow& step);
    static void set_steps_status(pqxx::work& tx, const std::string& run_id,
                                 const std::vector<std::string>& step_ids,
                                 const std::string& status);

    static void add_event(pqxx::work& tx, const std::string& run_id, const std::string& kind,
                          const nlohmann::json& payload, const std::string& step_row_id = "");

    /// Runs that are running, oldest first (the reconciler's work list).
    static std::vector<std::string> active_run_ids(pqxx::transaction_base& tx, int limit);
};

}  // namespace artistsaid::store
