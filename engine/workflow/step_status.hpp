// StepStatus: where a step of a run stands, as the DAG planner sees it.
#pragma once

#include <string_view>

namespace artistsaid::workflow {

enum class StepStatus {
    kPending,  // not started
    kRunning,  // started, not finished (includes waiting and retrying)
    kSucceeded,
    kFailed,     // failed with on_error: fail — the run fails
    kContinued,  // failed with on_error: continue — counts as finished
    kSkipped,    // its `if` was false (or it was skipped by an operator)
};

/// "pending", "running", "succeeded", "failed", "continued", "skipped".
std::string_view to_string(StepStatus status) noexcept;

/// Does a finished need with this status let its dependents start? Succeeded, continued
/// and skipped do: a skipped step satisfies `needs` (see docs/workflows.md, "Skipped
/// steps"); a dependent that must not run after a skip says so in its own `if`.
constexpr bool satisfies_needs(StepStatus status) noexcept {
    return status == StepStatus::kSucceeded || status == StepStatus::kContinued ||
           status == StepStatus::kSkipped;
}

}  // namespace artistsaid::workflow
