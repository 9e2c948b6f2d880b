// Internals shared by the run-time's source files (run_engine.cpp, run_phases.cpp,
// fan_out.cpp): status vocabulary, keys and small conversions. Not part of the API.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "engine/workflow/step_status.hpp"
#include "engine/workflow/workflow_definition.hpp"

namespace artistsaid::runtime::detail {

using Clock = std::chrono::system_clock;

/// Which part of the definition a step row belongs to.
enum class StepRole { kMain, kCompensation, kFailureHandler };

/// Rows of compensations are named "compensate:<step id>" (step ids cannot contain ':').
inline constexpr std::string_view kCompensationPrefix = "compensate:";
/// A step without `timeout` may run this long per attempt.
inline constexpr std::chrono::milliseconds kDefaultTimeout = std::chrono::hours(1);

inline bool is_compensation(const std::string& step_id) {
    return step_id.rfind(kCompensationPrefix, 0) == 0;
}

inline int64_t to_ms(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

inline Clock::time_point from_ms(long long ms) {
    return Clock::time_point(std::chrono::milliseconds(ms));
}

/// A step row's status is final: it will not run again (unless the run is retried).
inline bool is_final(const std::string& s) {
    return s == "succeeded" || s == "failed" || s == "continued" || s == "skipped" ||
           s == "cancelled" || s == "compensated";
}

inline bool is_run_final(const std::string& s) {
    return s == "succeeded" || s == "failed" || s == "cancelled";
}

/// May a step of this role start while the run has this status? Main steps run while the
/// run is running; compensations while it is failing or cancelling; on_failure steps
/// while it is failing.
inline bool may_start(const std::string& run_status, StepRole role) {
    switch (role) {
        case StepRole::kMain:
            return run_status == "running";
        case StepRole::kCompensation:
            return run_status == "failing" || run_status == "cancelling";
        case StepRole::kFailureHandler:
            return run_status == "failing";
    }
    return false;
}

/// How the DAG planner sees a step row's status.
workflow::StepStatus dag_status(const std::string& s);

/// `if` conditions: booleans as they are; null, "", "false" and 0 are false.
bool truthy(const nlohmann::json& v);

/// (run, step, item): the same on every attempt and every delivery.
std::string idempotency_key(const std::string& run_id, const std::string& step_id, int item);

/// The queue's unique key of one step attempt's job; a resumption at a time gets its own.
std::string unique_key(const std::string& run_id, const std::string& step_id, int item,
                       int attempt, std::optional<Clock::time_point> run_at);

std::string sha256_hex(const std::string& data);

/// Uniform in [0, 1), for retry jitter.
double random_unit();

/// `value` with every registered secret (logging::add_secret) masked in its strings: step
/// outputs and errors are stored, and secrets never reach run outputs (a plugin may echo
/// its inputs).
nlohmann::json redact_json(nlohmann::json value);

/// The concurrency key of a run of `definition` with these inputs (reads inputs and env).
std::string render_concurrency_key(const workflow::WorkflowDefinition& definition,
                                   const nlohmann::json& inputs, const nlohmann::json& env);

}  // namespace artistsaid::runtime::detail
