// WorkflowDefinition: one workflow as parsed from YAML — triggers, inputs, steps and their
// policies — in the form the run-time executes. docs/workflows.md documents every key.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/error.hpp"
#include "engine/workflow/template.hpp"
#include "engine/workflow/value_template.hpp"
#include "engine/workflow/value_type.hpp"

namespace artistsaid::workflow {

using Milliseconds = std::chrono::milliseconds;

/// What a schedule does about ticks missed while the engine was down.
enum class CatchUp { kNone, kLatest, kAll };
std::string_view to_string(CatchUp value) noexcept;

struct ScheduleTrigger {
    std::string cron;              // 5 fields or a macro such as @daily (schedule::CronSchedule)
    std::string timezone = "UTC";  // IANA name, e.g. Europe/Berlin
    CatchUp catch_up = CatchUp::kNone;
    SourceLocation where;
};

struct WebhookTrigger {
    std::string provider;             // e.g. stripe
    std::vector<std::string> events;  // the provider's event types; empty = every event
    SourceLocation where;
};

struct EventTrigger {
    std::string event;  // e.g. subscription.created (emitted by a workflow)
    SourceLocation where;
};

struct Triggers {
    std::vector<ScheduleTrigger> schedules;
    std::vector<WebhookTrigger> webhooks;
    std::vector<EventTrigger> events;
    /// May `artistsaid run NAME` (and the API) start it by hand? `on: {command: false}` says no.
    bool command = true;
};

struct InputDefinition {
    std::string name;
    ValueType type = ValueType::kString;
    bool required = false;
    std::string description;
    /// A literal, or expressions over env.* and functions (e.g. "${{ today() }}").
    std::optional<ValueTemplate> default_value;
    SourceLocation where;
};

struct ConcurrencyPolicy {
    Template key;              // may read inputs.* and env.*: "client-${{ inputs.client_id }}"
    int limit = 1;             // runs with the same key that may be active at once; others queue
    SourceLocation where;      // the `concurrency:` key
    SourceLocation key_where;  // the key's value
};

enum class Backoff { kConstant, kExponential };
std::string_view to_string(Backoff value) noexcept;

/// How a failed attempt of a step is retried.
struct RetryPolicy {
    int attempts = 1;  // total attempts, the first included
    Backoff backoff = Backoff::kExponential;
    Milliseconds delay{std::chrono::seconds(10)};
    std::optional<Milliseconds> max_delay;  // cap of the exponential growth
    bool jitter = true;

    /// The wait before attempt `attempt` (2 is the first retry), before jitter:
    /// constant: delay; exponential: delay * 2^(attempt-2), capped at max_delay. Never
    /// overflows (saturates at 100 years).
    Milliseconds delay_before(int attempt) const;

    /// `delay` with jitter applied, given `unit` uniformly drawn from [0, 1): a value in
    /// [delay/2, delay) ("equal jitter"), or `delay` itself when jitter is off.
    Milliseconds jittered(Milliseconds delay, double unit) const;
};

enum class OnError { kFail, kContinue };
std::string_view to_string(OnError value) noexcept;

/// The step that undoes a completed step when the run fails later (run in reverse order).
struct Compensation {
    std::string uses;
    ValueTemplate with;
    SourceLocation where;  // the `compensate:` key
    SourceLocation uses_where;
};

struct StepDefinition {
    std::string id;
    std::string name;                        // optional display name
    std::string uses;                        // step type, a key of the StepCatalog
    ValueTemplate with;                      // a mapping (JSON object), possibly empty
    std::vector<std::string> needs;          // ids of the steps that must finish first
    std::optional<ValueTemplate> condition;  // `if`: a boolean or an expression
    std::optional<ValueTemplate> for_each;   // a list, or an expression giving one
    std::optional<int> max_parallel;         // with for_each; default: no limit
    std::optional<RetryPolicy> retry;
    std::optional<Milliseconds> timeout;  // per attempt
    OnError on_error = OnError::kFail;
    std::optional<Compensation> compensate;

    /// Where each part was written, for messages.
    struct Locations {
        SourceLocation step;  // the `-` of the list item
        SourceLocation id;
        SourceLocation uses;
        std::optional<SourceLocation> with;  // the `with:` key
        std::vector<SourceLocation> needs;   // one per entry of `needs`
        std::optional<SourceLocation> condition;
        std::optional<SourceLocation> for_each;
        std::optional<SourceLocation> max_parallel;
    } where;
};

/// A workflow definition: what `artistsaid validate` checks and a run executes.
///
/// What for: produced by Validator (validator.hpp), consumed by the run-time, which snapshots
/// `source` with each run so a run keeps the definition it started with.
///
/// Thread-safety: a plain value; share it const.
///
/// Guarantee: a definition returned by Validator::load_file() or WorkflowDirectory is
/// valid: step ids are unique, every `needs` names an existing step and they form no cycle
/// (Dag::build succeeds), every `uses` is in the catalog and every `with:` matches its
/// declared inputs, and every expression compiled and type-checked.
struct WorkflowDefinition {
    std::string name;
    int version = 1;
    std::string description;
    Triggers on;
    std::vector<InputDefinition> inputs;
    std::optional<ConcurrencyPolicy> concurrency;
    std::vector<StepDefinition> steps;
    /// Steps run when the run fails (after compensation). They may read every main step's
    /// outputs (null if it did not run) and run.failed_step / run.error; their `needs`
    /// refer to other on_failure steps.
    std::vector<StepDefinition> on_failure;
    std::string file;           // where it was read from
    SourceLocation name_where;  // where `name` was written
    std::string source;         // the YAML text, for the run's snapshot

    const StepDefinition* find_step(std::string_view id) const noexcept;
    const InputDefinition* find_input(std::string_view name) const noexcept;

    /// A normalised JSON view (for `workflows show --json` and the HTTP API).
    nlohmann::json to_json() const;
};

}  // namespace artistsaid::workflow
