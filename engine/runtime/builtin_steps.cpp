#include "engine/runtime/builtin_steps.hpp"

#include <spdlog/spdlog.h>

#include <thread>

#include "engine/core/error.hpp"
#include "engine/workflow/builtin_step_types.hpp"
#include "engine/workflow/detail/calendar.hpp"

namespace artistsaid::runtime {
namespace {

using Clock = std::chrono::system_clock;

const workflow::StepTypeDescriptor& builtin(std::string_view name) {
    static const workflow::StepCatalog catalog = workflow::StepCatalog::with_builtins();
    const auto* d = catalog.find(name);
    if (d == nullptr) throw Error(ErrorCode::kInternal, "no built-in step type " + std::string(name));
    return *d;
}

class LogStep final : public StepPlugin {
public:
    const workflow::StepTypeDescriptor& descriptor() const override { return builtin("log"); }
    StepResult run(const StepCall& call) override {
        std::string message = call.with.value("message", "");
        std::string level = call.with.value("level", "info");
        auto lvl = level == "debug"  ? spdlog::level::debug
                   : level == "warn" ? spdlog::level::warn
                   : level == "error" ? spdlog::level::err
                                      : spdlog::level::info;
        // The log redactor masks every registered secret in the message.
        spdlog::log(lvl, "run {} step {}: {}", call.run_id, call.step_id, message);
        return StepResult::success({{"message", message}});
    }
};

class FailStep final : public StepPlugin {
public:
    const workflow::StepTypeDescriptor& descriptor() const override { return builtin("fail"); }
    StepResult run(const StepCall& call) override {
        return StepResult::failure(call.with.value("message", "failed by the workflow"), false);
    }
};

// A durable timer: the step waits in the `waiting` state, as a delayed job, and survives
// restarts (the reconciler re-creates the job from step_runs.next_attempt_at).
class WaitUntilStep final : public StepPlugin {
public:
    const workflow::StepTypeDescriptor& descriptor() const override {
        return builtin("wait.until");
    }
    StepResult run(const StepCall& call) override {
        std::string text = call.with.value("at", "");
        auto parsed = workflow::detail::parse_datetime(text);
        if (!parsed) throw InputError("wait.until: 'at' is not an RFC 3339 date-time: " + text);
        auto at = Clock::time_point(parsed->date) + std::chrono::hours(parsed->hour) +
                  std::chrono::minutes(parsed->minute - parsed->offset_minutes) +
                  std::chrono::seconds(parsed->second);
        auto now = Clock::now();
        // Clocks of Redis and this host may differ by a little: finish a near wait here
        // rather than scheduling a job for the same instant again.
        if (at > now && at - now <= std::chrono::seconds(2)) {
            std::this_thread::sleep_until(at);
            now = Clock::now();
        }
        if (now >= at)
            return StepResult::success(
                {{"waited_until", workflow::detail::format_datetime(workflow::detail::utc_datetime(now))}});
        return StepResult::wait_until(at);
    }
};

}  // namespace

void register_builtin_steps(StepRegistry& registry) {
    registry.add(std::make_unique<LogStep>());
    registry.add(std::make_unique<FailStep>());
    registry.add(std::make_unique<WaitUntilStep>());
}

}  // namespace artistsaid::runtime
