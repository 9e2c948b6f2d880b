// The rows of runs created in the current transaction, kept in memory and written in one
// statement by flush(): the run (in its latest state), its step rows and its events.
//
// Why: a run whose first steps run inline (log, fail, collection.range) is created and
// usually finished inside the transaction that starts it. Written as it happens, that is
// one INSERT of the run and its steps, then an UPDATE (and the updated_at trigger) per
// step and for the run — about nine statements. Nobody else can see these rows before the
// commit, so writing only their final state, once, is the same for every reader — and
// several runs started in one transaction (group commit) are written by the same single
// statement.
//
// Contract: the run-time sends a buffered run's changes here instead of to RunStore, and
// calls flush() before any statement that reads or references a buffered row (a wait, a
// child run, failure handling) and before the commit. Only the changes below can be
// buffered; anything else flushes first. Timestamps come from the flushing statement's
// now(), which is the transaction's start time — what the direct statements would have
// written too.
//
// Thread-safety: none; it belongs to the one thread that owns the transaction.
#pragma once

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/store/run_store.hpp"

namespace artistsaid::store {

class RunWriteBuffer {
public:
    /// A new run with its step rows and its first event (RunStore::insert_run_with_steps).
    void add_run(const RunRow& run, const std::vector<StepRow>& steps, const std::string& event,
                 const nlohmann::json& payload);
    /// Whether the rows of this run are here (not written yet).
    bool holds(const std::string& run_id) const { return runs_.count(run_id) != 0; }
    bool empty() const noexcept { return runs_.empty(); }
    size_t run_count() const noexcept { return runs_.size(); }

    /// RunStore::record_step on a buffered row: its state and the events of `events`.
    void record_step(const StepRow& step, const nlohmann::json& events);
    /// RunStore::set_steps_status on a buffered run.
    void set_steps_status(const std::string& run_id, const std::vector<std::string>& step_ids,
                          const std::string& status);
    /// RunStore::finish_run on a buffered run (a new run has no waits to resolve).
    void finish_run(const std::string& run_id, const std::string& status, const std::string& error,
                    const nlohmann::json& outputs);

    /// Writes every buffered run, step row and event in one statement and empties the
    /// buffer. Throws what the statement throws (the buffer is then emptied too: the
    /// transaction is lost anyway).
    void flush(pqxx::work& tx);
    /// Forgets everything (the transaction rolled back).
    void clear() noexcept;

private:
    struct Step {
        StepRow row;
        bool started = false;  // started_at is set
        bool finished = false; // finished_at is set
    };
    struct Event {
        std::string id;
        std::string step_run_id;  // empty for an event of the run
        std::string kind;
        std::string payload;      // JSON text
    };
    struct Run {
        RunRow row;
        bool started = false;
        bool finished = false;
        std::vector<Step> steps;
        std::vector<Event> events;  // in the order they happened
    };
    Step& step(const std::string& run_id, const std::string& row_id, Run** run);

    std::unordered_map<std::string, Run> runs_;
    std::vector<std::string> order_;  // run ids in the order they were added
};

}  // namespace artistsaid::store
