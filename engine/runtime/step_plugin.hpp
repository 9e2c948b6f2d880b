// How a step type runs: a StepPlugin per `uses:` name, registered in one StepRegistry that
// the process fills in one visible place. The registry also yields the StepCatalog that
// validation checks workflows against, so a step type's declared inputs and outputs and
// its implementation cannot drift apart.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/workflow/step_catalog.hpp"

namespace artistsaid::runtime {

/// One execution of a step (or of one for_each item).
struct StepCall {
    std::string run_id;
    std::string step_id;
    int item_index = -1;
    int attempt = 1;
    /// Stable across attempts and redeliveries: (run, step, item). Pass it upstream
    /// (Stripe Idempotency-Key, PayPal-Request-Id) and guard effects with it.
    std::string idempotency_key;
    nlohmann::json with;  // the rendered `with:`, secrets in clear: never log it
    std::chrono::system_clock::time_point deadline;
    /// True when this call resumes a step that asked to wait (wait.until, wait.event,
    /// workflow.run).
    bool resumed = false;
    /// With `resumed`, what ended a wait for an event or a child run:
    ///   {"outcome": "event", "payload": {...}}   the event arrived (its payload)
    ///   {"outcome": "timeout"}                   the wait's timeout passed first
    /// For a child run the payload is {"run_id", "status", "outputs", "error"}.
    /// Null when the step waited for a time (wait.until).
    nlohmann::json resume;
    const std::atomic<bool>* should_stop = nullptr;
};

struct StepResult {
    /// kWait: call again at resume_at. kWaitEvent: call again when an event named
    /// `event` with key `key` arrives (or at resume_at, a timeout, if set). kStartChild:
    /// start a run of workflow `event` with inputs `outputs` and call again when it ends.
    enum class Kind { kSucceeded, kFailed, kWait, kWaitEvent, kStartChild };
    Kind kind = Kind::kSucceeded;
    nlohmann::json outputs = nlohmann::json::object();
    std::string error;          // for kFailed; never contains secrets
    bool retryable = true;      // kFailed: false skips the remaining attempts
    std::optional<std::chrono::system_clock::time_point> resume_at;  // kWait, kWaitEvent
    std::string event;  // kWaitEvent: the event name; kStartChild: the workflow name
    std::string key;    // kWaitEvent: the correlation key

    static StepResult success(nlohmann::json outputs = nlohmann::json::object());
    static StepResult failure(std::string error, bool retryable = true);
    static StepResult wait_until(std::chrono::system_clock::time_point at);
    /// Waits durably for an event (see RunEngine::emit_event); `timeout_at` unset: forever.
    static StepResult wait_for_event(
        std::string event, std::string key,
        std::optional<std::chrono::system_clock::time_point> timeout_at = std::nullopt);
    /// Starts a child run of `workflow` and waits until it ends.
    static StepResult start_child(std::string workflow, nlohmann::json inputs);
};

/// A step type's implementation. Thread-safety: run() is called from many threads.
class StepPlugin {
public:
    virtual ~StepPlugin() = default;
    /// Its `uses:` name, its inputs and its outputs.
    virtual const workflow::StepTypeDescriptor& descriptor() const = 0;
    /// Runs one attempt. Throwing is a retryable failure (InputError: not retryable).
    virtual StepResult run(const StepCall& call) = 0;
    /// True for a step that does no I/O and returns at once (log, fail, collection.range):
    /// the run-time may run it inside the transaction that claims and records it, and run
    /// the inline steps it makes ready in the same transaction. A rollback then undoes the
    /// whole chain, so such a step must have no effect outside the process.
    virtual bool runs_inline() const { return false; }
};

/// Step type name → implementation.
class StepRegistry {
public:
    void add(std::unique_ptr<StepPlugin> plugin);
    StepPlugin* find(std::string_view name) const;
    /// Every registered step type's descriptor, for validation and `plugins list`.
    workflow::StepCatalog catalog() const;

private:
    std::map<std::string, std::unique_ptr<StepPlugin>, std::less<>> plugins_;
};

}  // namespace artistsaid::runtime
