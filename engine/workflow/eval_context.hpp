// EvalContext: everything an expression may read while it is evaluated.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>

#include "engine/workflow/expression_limits.hpp"

namespace artistsaid::workflow {

/// The data visible to `${{ }}` expressions during one evaluation.
///
/// The JSON members are borrowed, not copied (a for_each over many items evaluates the same
/// `with:` once per item): each pointer must stay valid for the duration of the call. A null
/// pointer reads as an empty object, except `item`, which is an error to read when null.
///
///   inputs   the run's resolved inputs (input_resolver.hpp), {"name": value, ...}
///   steps    {"<step id>": {"outputs": {...}, "status": to_string(StepStatus)}, ...};
///            only finished steps need to be present (a missing step reads as null); a
///            for_each step's outputs are the aggregate of for_each_outputs()
///   item     the current element inside for_each; `index` its 0-based position
///   env      environment variables the run-time chose to expose, {"NAME": "value"}
///   secrets  {"NAME": "value"}; every value read from here is marked secret
///   run      {"id", "workflow", "version", "started_at"} and, in on_failure steps,
///            {"failed_step", "error"}
///   clock    the time today() and now() use; empty means the system clock (UTC)
///
/// Thread-safety: evaluation only reads the context, so one context may be shared by
/// concurrent evaluations as long as nobody modifies the JSON it points to.
struct EvalContext {
    const nlohmann::json* inputs = nullptr;
    const nlohmann::json* steps = nullptr;
    const nlohmann::json* item = nullptr;
    std::optional<std::int64_t> index;
    const nlohmann::json* env = nullptr;
    const nlohmann::json* secrets = nullptr;
    const nlohmann::json* run = nullptr;
    std::function<std::chrono::system_clock::time_point()> clock;
    ExpressionLimits limits;

    std::chrono::system_clock::time_point now() const {
        return clock ? clock() : std::chrono::system_clock::now();
    }
};

}  // namespace artistsaid::workflow
