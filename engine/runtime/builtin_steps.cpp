#include "engine/runtime/builtin_steps.hpp"

#include <spdlog/spdlog.h>

#include <thread>

#include "engine/core/duration.hpp"
#include "engine/core/error.hpp"
#include "engine/runtime/collection_source.hpp"
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
    bool runs_inline() const override { return true; }
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

// Unlike log, not inline: each execution is a queue job, so a chain of noop steps
// measures the run-time's per-step path (claim, job, record, advance).
class NoopStep final : public StepPlugin {
public:
    const workflow::StepTypeDescriptor& descriptor() const override { return builtin("noop"); }
    StepResult run(const StepCall&) override { return StepResult::success(); }
};

class FailStep final : public StepPlugin {
public:
    const workflow::StepTypeDescriptor& descriptor() const override { return builtin("fail"); }
    bool runs_inline() const override { return true; }
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

// Waits durably for an event with a matching key (RunEngine::emit_event, `artistsaid
// events emit`, webhooks): the run-time records the wait in run_waits and calls the step
// again with what ended it.
class WaitEventStep final : public StepPlugin {
public:
    const workflow::StepTypeDescriptor& descriptor() const override {
        return builtin("wait.event");
    }
    StepResult run(const StepCall& call) override {
        std::string event = call.with.value("event", "");
        std::string key = call.with.value("key", "");
        if (event.empty()) throw InputError("wait.event: 'event' is empty");
        if (!call.resumed || call.resume.is_null()) {
            std::optional<Clock::time_point> timeout_at;
            if (call.with.contains("timeout") && call.with["timeout"].is_string())
                timeout_at = Clock::now() + parse_duration(call.with["timeout"].get<std::string>());
            return StepResult::wait_for_event(event, key, timeout_at);
        }
        if (call.resume.value("outcome", "") == "event")
            return StepResult::success({{"event", call.resume.value("payload", nlohmann::json())},
                                        {"timed_out", false}});
        if (call.with.value("on_timeout", "fail") == "continue")
            return StepResult::success({{"event", nlohmann::json()}, {"timed_out", true}});
        return StepResult::failure("wait.event: no '" + event + "' event with key '" + key +
                                       "' arrived within " + call.with.value("timeout", "the timeout"),
                                   false);
    }
};

// Starts a child run and waits for it; the child's end resumes the step with its outcome.
class WorkflowRunStep final : public StepPlugin {
public:
    const workflow::StepTypeDescriptor& descriptor() const override {
        return builtin("workflow.run");
    }
    StepResult run(const StepCall& call) override {
        std::string workflow = call.with.value("workflow", "");
        if (!call.resumed || call.resume.is_null())
            return StepResult::start_child(workflow,
                                           call.with.value("inputs", nlohmann::json::object()));
        const nlohmann::json child = call.resume.value("payload", nlohmann::json::object());
        std::string status = child.value("status", "");
        if (status == "succeeded")
            return StepResult::success({{"run_id", child.value("run_id", "")},
                                        {"status", status},
                                        {"outputs", child.value("outputs", nlohmann::json::object())}});
        std::string error = child.contains("error") && child["error"].is_string()
                                ? ": " + child["error"].get<std::string>()
                                : "";
        return StepResult::failure("child run " + child.value("run_id", "") + " of " + workflow +
                                       " " + status + error,
                                   false);
    }
};

// A collection handle of integers, for fan-outs over many items without storing them.
class CollectionRangeStep final : public StepPlugin {
public:
    const workflow::StepTypeDescriptor& descriptor() const override { return d_; }
    bool runs_inline() const override { return true; }
    StepResult run(const StepCall& call) override {
        nlohmann::json range = {{"start", call.with.value("start", 0LL)},
                                {"count", call.with.value("count", 0LL)},
                                {"step", call.with.value("step", 1LL)}};
        nlohmann::json handle = {{"$range", range}};
        auto source = CollectionSource::from_value(handle);  // checks count and overflow
        return StepResult::success({{"items", handle}, {"count", source.total()}});
    }

private:
    workflow::StepTypeDescriptor d_{
        "collection.range",
        "A collection handle of the integers start, start+step, … (count of them), for a "
        "for_each over many items that are never all in memory.",
        {{"count", workflow::ValueType::kInteger, true, "how many integers", {}},
         {"start", workflow::ValueType::kInteger, false, "the first (default 0)", {}},
         {"step", workflow::ValueType::kInteger, false, "the difference (default 1)", {}}},
        {{"items", workflow::ValueType::kAny, false,
          "the handle {\"$range\": {start, count, step}}: give it to for_each", {}},
         {"count", workflow::ValueType::kInteger, false, "how many items", {}}}};
};

}  // namespace

void register_builtin_steps(StepRegistry& registry) {
    registry.add(std::make_unique<LogStep>());
    registry.add(std::make_unique<NoopStep>());
    registry.add(std::make_unique<FailStep>());
    registry.add(std::make_unique<WaitUntilStep>());
    registry.add(std::make_unique<WaitEventStep>());
    registry.add(std::make_unique<WorkflowRunStep>());
    registry.add(std::make_unique<CollectionRangeStep>());
}

}  // namespace artistsaid::runtime
