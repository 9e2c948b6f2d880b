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
    /// True when this call resumes a step that asked to wait (wait.until, wait.event).
    bool resumed = false;
    const std::atomic<bool>* should_stop = nullptr;
};

struct StepResult {
    enum class Kind { kSucceeded, kFailed, kWait };
    Kind kind = Kind::kSucceeded;
    nlohmann::json outputs = nlohmann::json::object();
    std::string error;          // for kFailed; never contains secrets
    bool retryable = true;      // kFailed: false skips the remaining attempts
    std::optional<std::chrono::system_clock::time_point> resume_at;  // kWait

    static StepResult success(nlohmann::json outputs = nlohmann::json::object());
    static StepResult failure(std::string error, bool retryable = true);
    static StepResult wait_until(std::chrono::system_clock::time_point at);
};

/// A step type's implementation. Thread-safety: run() is called from many threads.
class StepPlugin {
public:
    virtual ~StepPlugin() = default;
    /// Its `uses:` name, its inputs and its outputs.
    virtual const workflow::StepTypeDescriptor& descriptor() const = 0;
    /// Runs one attempt. Throwing is a retryable failure (InputError: not retryable).
    virtual StepResult run(const StepCall& call) = 0;
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
