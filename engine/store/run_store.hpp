// PostgreSQL access for workflow runs, their steps and events (tables workflow_runs,
// step_runs, run_events), fan-outs (step_fanouts, collections, collection_items), waits
// (run_waits, workflow_events). Every function works inside the caller's transaction, so
// the run-time decides what commits together (a step's result and the next steps it
// unlocks). Rows are plain structs with JSON where the table has jsonb.
// Thread-safety: stateless; the transaction belongs to one thread.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <tuple>
#include <vector>

namespace artistsaid::store {

struct RunRow {
    std::string id;
    std::string workflow_name;
    int workflow_version = 1;
    nlohmann::json definition;   // {"source": yaml, "file": path, "checksum": sha256}
    // The shared snapshot (its workflow_definitions row, 0014_run_rows.sql) the run refers
    // to; none when the run carries its own copy of `definition` (runs from before 0014).
    std::optional<std::int64_t> definition_id;
    nlohmann::json inputs = nlohmann::json::object();
    nlohmann::json outputs;
    std::string status = "pending";
    std::string trigger_kind = "cli";
    std::string trigger_ref;
    std::string dedupe_key;
    std::string concurrency_key;
    std::string parent_run_id;  // set for a child run started by workflow.run
    std::string parent_step;
    std::string error;
    std::string failed_step;
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
    nlohmann::json item;  // the for_each element of an item row
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

/// A for_each step's progress (step_fanouts): its items run in `lanes` lanes (lane l runs
/// items l, l+lanes, … one after another); it is finished when every lane ended.
struct FanoutRow {
    std::string run_id;
    std::string step_id;
    nlohmann::json source;
    std::int64_t total = 0;
    int max_parallel = 1;
    int lanes = 0;
    int lanes_done = 0;
    bool stopping = false;
    std::int64_t succeeded_count = 0;  // set when it finishes
    std::int64_t failed_count = 0;

    bool finished() const noexcept { return lanes_done >= lanes; }
};

/// The result of recording an item's final outcome.
struct ItemCompletion {
    bool recorded = false;     // false: the row was not at that attempt (a stale job)
    std::int64_t next = -1;    // the next item of its lane, created as `queued`; -1: none
    std::string next_row_id;   // …its row
    nlohmann::json next_item;  // …and its element
    bool finished = false;     // that was the end of the last lane
};

/// One finished item's outcome, as complete_item() records it.
struct ItemOutcome {
    std::string row_id;
    int attempt = 1;
    std::string status;  // succeeded | failed | continued
    nlohmann::json inputs;
    nlohmann::json outputs;
    std::string error;
    long long started_ms = 0;  // when the attempt started, if the row does not say yet
    bool stop = false;         // no lane takes further items (a failure with on_error: fail)
};

/// A step waiting for an event (run_waits).
struct WaitRow {
    std::string id;
    std::string run_id;
    std::string step_id;
    int item_index = -1;
    std::string event;
    std::string key;
    long long timeout_ms = 0;  // 0: no timeout
    bool resolved = false;
    std::string outcome;  // event | timeout | cancelled
    nlohmann::json payload;
    int step_attempt = 0;  // of the waiting step row (set by resolve_waits_for_event)
};

class RunStore {
public:
    // --- runs --------------------------------------------------------------------------
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
    static void set_run_outputs(pqxx::work& tx, const std::string& id,
                                const nlohmann::json& outputs);
    /// Ends a run in one statement: status, error, outputs (unless null), the run.<status>
    /// event, and its open waits resolved as cancelled.
    static void finish_run(pqxx::work& tx, const std::string& id, const std::string& status,
                           const std::string& error, const nlohmann::json& outputs);
    /// Inserts a run, its step rows and its first event in one statement.
    static void insert_run_with_steps(pqxx::work& tx, const RunRow& run,
                                      const std::vector<StepRow>& steps, const std::string& event,
                                      const nlohmann::json& payload);
    static void set_failed_step(pqxx::work& tx, const std::string& id, const std::string& step,
                                const std::string& error);
    /// Active (running, waiting, failing, cancelling) child runs of a run.
    static std::vector<std::string> active_children(pqxx::transaction_base& tx,
                                                    const std::string& run_id);

    // --- steps -------------------------------------------------------------------------
    static void insert_steps(pqxx::work& tx, const std::vector<StepRow>& steps);
    /// Every row of the run, items included (for small runs and tests; a large fan-out
    /// has a row per item).
    static std::vector<StepRow> steps_of(pqxx::transaction_base& tx, const std::string& run_id);
    /// The rows that are not fan-out items (item_index -1), in creation order: what
    /// planning a run needs, whatever the size of its fan-outs.
    static std::vector<StepRow> parents_of(pqxx::transaction_base& tx, const std::string& run_id);
    /// Rows (items included) that should have a live job: queued, running, retrying,
    /// waiting. At most the fan-outs' windows, so bounded.
    static std::vector<StepRow> live_steps_of(pqxx::transaction_base& tx,
                                              const std::string& run_id);
    static std::optional<StepRow> lock_step(pqxx::work& tx, const std::string& run_id,
                                            const std::string& step_id, int item_index);
    static std::optional<StepRow> find_step(pqxx::transaction_base& tx, const std::string& run_id,
                                            const std::string& step_id, int item_index);
    /// Writes status, attempt, inputs, outputs, error, next_attempt (ms since epoch; 0
    /// clears it) and the start/finish times implied by the status.
    static void update_step(pqxx::work& tx, const StepRow& step);
    /// update_step() and, in the same statement, the run events of `events` ([{"kind",
    /// "payload"}], attached to the row): one round trip where a step changes state.
    static void record_step(pqxx::work& tx, const StepRow& step, const nlohmann::json& events);
    /// Sets the status of these steps' own rows (item_index -1; items are left alone).
    static void set_steps_status(pqxx::work& tx, const std::string& run_id,
                                 const std::vector<std::string>& step_ids,
                                 const std::string& status);
    /// Cancels the rows of the run that wait for something (pending, queued, retrying,
    /// waiting; of fan-out items only retrying and waiting: a queued item may be running its
    /// first attempt, and its job cancels it) — only items with `items_only` — and ends the
    /// lanes of cancelled items. Returns how many rows.
    static long long cancel_idle_steps(pqxx::work& tx, const std::string& run_id,
                                       bool items_only = false);
    /// Fail-fast: cancels the run's own step rows that wait for a job (queued, retrying,
    /// waiting) — but not a step waiting for a child run, which ends on its own — and their
    /// open waits. Returns how many rows.
    static long long cancel_idle_main_steps(pqxx::work& tx, const std::string& run_id);
    /// Stores `item` in a row's item column (a compensation tracker keeps its cursor there).
    static void set_step_item(pqxx::work& tx, const std::string& row_id, const nlohmann::json& item);
    /// The succeeded item of a fan-out with the highest index below `below` (-1: any):
    /// (index, item).
    static std::optional<std::pair<int, nlohmann::json>> previous_succeeded_item(
        pqxx::transaction_base& tx, const std::string& run_id, const std::string& step_id,
        int below);
    /// Item rows of a step whose status is `status`, counted.
    static long long count_items(pqxx::transaction_base& tx, const std::string& run_id,
                                 const std::string& step_id, const std::string& status);

    /// {"<step id>": {"<status>": count, ...}} over the fan-out items of a run.
    static nlohmann::json item_summary(pqxx::transaction_base& tx, const std::string& run_id);
    /// Item rows of a run with one of `statuses` (all if empty), by step and index.
    static std::vector<StepRow> items_of(pqxx::transaction_base& tx, const std::string& run_id,
                                         const std::vector<std::string>& statuses, int limit);

    static void add_event(pqxx::work& tx, const std::string& run_id, const std::string& kind,
                          const nlohmann::json& payload, const std::string& step_row_id = "");

    /// Runs that are not finished (pending, running, waiting, failing, cancelling), oldest
    /// first (the reconciler's work list).
    static std::vector<std::string> active_run_ids(pqxx::transaction_base& tx, int limit);

    // --- fan-outs ----------------------------------------------------------------------
    /// Creates the fan-out of a step, or starts it over (a retried run); item rows are kept
    /// (an item that succeeded is not run again).
    static void start_fanout(pqxx::work& tx, const std::string& run_id, const std::string& step_id,
                             const nlohmann::json& source, std::int64_t total, int max_parallel);
    static std::optional<FanoutRow> find_fanout(pqxx::transaction_base& tx,
                                                const std::string& run_id,
                                                const std::string& step_id);
    /// Creates the first item row of every lane (skipping items that already succeeded)
    /// and counts lanes with nothing to do as ended. Returns the created indexes.
    static std::vector<std::int64_t> open_lanes(pqxx::work& tx, const std::string& run_id,
                                                const std::string& step_id);
    /// Records an item's final outcome and, in the same statement, creates the row of the
    /// next item of its lane — or ends the lane (also when the run is no longer running).
    /// One round trip per item, no lock on anything but the item's own row (the hot path
    /// of a fan-out).
    static ItemCompletion complete_item(pqxx::transaction_base& tx, const std::string& run_id,
                                        const std::string& step_id, const ItemOutcome& outcome);
    /// Claims an item for `attempt`, unless the run is not running or the row is not at that
    /// attempt: a first attempt reads the `queued` row (recording it as running would cost a
    /// write per item; its start time is kept at completion), a retry marks it running.
    /// Returns (row id, item). Waiting rows are not claimed here (the resume path is).
    static std::optional<std::pair<std::string, nlohmann::json>> start_item(
        pqxx::transaction_base& tx, const std::string& run_id, const std::string& step_id,
        int item_index, int attempt);
    /// Sets an item row to retrying or waiting (its lane waits with it).
    static bool park_item(pqxx::transaction_base& tx, const std::string& row_id, int attempt,
                          const std::string& status, const std::string& error,
                          long long next_attempt_ms);
    /// Gives an unfinished item `status` (cancelled) and ends its lane; returns the fan-out.
    static std::optional<FanoutRow> end_lane(pqxx::work& tx, const std::string& run_id,
                                             const std::string& step_id, const std::string& row_id,
                                             const std::string& status, const std::string& error);
    /// Stops every fan-out of the run: lanes take no further items.
    static void stop_fanouts(pqxx::work& tx, const std::string& run_id);
    /// Counts the items that succeeded and failed and records the counts in the fan-out.
    static std::pair<std::int64_t, std::int64_t> count_item_outcomes(pqxx::work& tx,
                                                                     const std::string& run_id,
                                                                     const std::string& step_id);
    /// The items' outputs in item order (null for an item that did not succeed).
    static nlohmann::json item_results(pqxx::transaction_base& tx, const std::string& run_id,
                                       const std::string& step_id);
    /// The error of the first failed item, if any.
    static std::string first_item_error(pqxx::transaction_base& tx, const std::string& run_id,
                                        const std::string& step_id);

    // --- collections -------------------------------------------------------------------
    /// Stores the rows of `select_sql` (one jsonb column, in the order the query returns
    /// them: give it an ORDER BY) as a collection owned by `run_id`, in one statement;
    /// returns its id. For step plugins: return {"$collection": {"id": id}} to fan out.
    /// `select_sql` is the plugin's own SQL, never text from a workflow or a request.
    static std::string create_collection_from_query(pqxx::work& tx, const std::string& run_id,
                                                    const std::string& select_sql);
    /// Stores an array as a collection (tests, small producers).
    static std::string create_collection(pqxx::work& tx, const std::string& run_id,
                                         const nlohmann::json& items);
    /// (owner run id, item count) of a collection.
    static std::optional<std::pair<std::string, std::int64_t>> find_collection(
        pqxx::transaction_base& tx, const std::string& id);

    // --- waits and events --------------------------------------------------------------
    /// Serialises emitting an event and registering a wait for the same (event, key), so
    /// whichever commits second sees the other (a transaction-scoped advisory lock).
    static void lock_event_key(pqxx::work& tx, const std::string& event, const std::string& key);
    /// Records a wait (replacing an earlier one of the same step row).
    static void insert_wait(pqxx::work& tx, const WaitRow& wait);
    static std::optional<WaitRow> find_wait(pqxx::transaction_base& tx, const std::string& run_id,
                                            const std::string& step_id, int item_index);
    /// Resolves one open wait; false if it was already resolved.
    static bool resolve_wait(pqxx::work& tx, const std::string& wait_id,
                             const std::string& outcome, const nlohmann::json& payload);
    /// Resolves every open wait for (event, key) and returns them.
    static std::vector<WaitRow> resolve_waits_for_event(pqxx::work& tx, const std::string& event,
                                                        const std::string& key,
                                                        const nlohmann::json& payload);
    /// Resolves the run's open waits as cancelled.
    static void cancel_waits(pqxx::work& tx, const std::string& run_id);
    static std::string insert_event(pqxx::work& tx, const std::string& name,
                                    const std::string& key, const nlohmann::json& payload);
    /// The payload of the first event (name, key) recorded since the run was created.
    static std::optional<nlohmann::json> find_event_since_run(pqxx::transaction_base& tx,
                                                              const std::string& name,
                                                              const std::string& key,
                                                              const std::string& run_id);

    // --- concurrency -------------------------------------------------------------------
    /// Serialises admitting and releasing runs of one concurrency key.
    static void lock_concurrency_key(pqxx::work& tx, const std::string& key);
    /// Runs of the key that hold a slot (running, waiting, failing, cancelling).
    static long long count_active_runs(pqxx::transaction_base& tx, const std::string& key);
    /// Pending runs of the key, oldest first.
    static std::vector<std::string> pending_runs(pqxx::transaction_base& tx,
                                                 const std::string& key, int limit);
    /// Keys that have pending runs (the reconciler's safety net).
    static std::vector<std::string> keys_with_pending_runs(pqxx::transaction_base& tx, int limit);
};

}  // namespace artistsaid::store
