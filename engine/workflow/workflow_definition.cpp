#include "engine/workflow/workflow_definition.hpp"

#include "engine/core/duration.hpp"

namespace artistsaid::workflow {
namespace {

constexpr Milliseconds kMaxDelay = std::chrono::hours(24 * 365 * 100);

nlohmann::json step_json(const StepDefinition& s) {
    nlohmann::json out = {{"id", s.id},
                          {"uses", s.uses},
                          {"with", s.with.raw()},
                          {"needs", s.needs},
                          {"on_error", to_string(s.on_error)}};
    if (out["with"].is_null()) out["with"] = nlohmann::json::object();
    if (!s.name.empty()) out["name"] = s.name;
    if (s.condition) out["if"] = s.condition->raw();
    if (s.for_each) out["for_each"] = s.for_each->raw();
    if (s.max_parallel) out["max_parallel"] = *s.max_parallel;
    if (s.retry) {
        nlohmann::json r = {{"attempts", s.retry->attempts},
                            {"backoff", to_string(s.retry->backoff)},
                            {"delay", format_duration(s.retry->delay)},
                            {"jitter", s.retry->jitter}};
        if (s.retry->max_delay) r["max_delay"] = format_duration(*s.retry->max_delay);
        out["retry"] = r;
    }
    if (s.timeout) out["timeout"] = format_duration(*s.timeout);
    if (s.compensate) {
        nlohmann::json with = s.compensate->with.raw();
        out["compensate"] = {{"uses", s.compensate->uses},
                             {"with", with.is_null() ? nlohmann::json::object() : with}};
    }
    return out;
}

}  // namespace

std::string_view to_string(CatchUp value) noexcept {
    switch (value) {
        case CatchUp::kNone:
            return "none";
        case CatchUp::kLatest:
            return "latest";
        case CatchUp::kAll:
            return "all";
    }
    return "none";
}

std::string_view to_string(Backoff value) noexcept {
    return value == Backoff::kConstant ? "constant" : "exponential";
}

std::string_view to_string(OnError value) noexcept {
    return value == OnError::kFail ? "fail" : "continue";
}

Milliseconds RetryPolicy::delay_before(int attempt) const {
    if (attempt < 2) return Milliseconds(0);
    Milliseconds cap = max_delay ? std::min(*max_delay, kMaxDelay) : kMaxDelay;
    Milliseconds wait = std::min(delay, cap);
    if (backoff == Backoff::kConstant) return wait;
    for (int i = 2; i < attempt && wait < cap; ++i) wait = std::min(wait * 2, cap);
    return wait;
}

Milliseconds RetryPolicy::jittered(Milliseconds wait, double unit) const {
    if (!jitter) return wait;
    if (unit < 0) unit = 0;
    if (unit >= 1) unit = 0.999999;
    auto half = wait.count() / 2;
    return Milliseconds(half +
                        static_cast<std::int64_t>(static_cast<double>(wait.count() - half) * unit));
}

const StepDefinition* WorkflowDefinition::find_step(std::string_view id) const noexcept {
    for (const auto& s : steps)
        if (s.id == id) return &s;
    for (const auto& s : on_failure)
        if (s.id == id) return &s;
    return nullptr;
}

const InputDefinition* WorkflowDefinition::find_input(std::string_view input) const noexcept {
    for (const auto& i : inputs)
        if (i.name == input) return &i;
    return nullptr;
}

nlohmann::json WorkflowDefinition::to_json() const {
    nlohmann::json schedules = nlohmann::json::array();
    for (const auto& s : on.schedules)
        schedules.push_back(
            {{"cron", s.cron}, {"timezone", s.timezone}, {"catch_up", to_string(s.catch_up)}});
    nlohmann::json webhooks = nlohmann::json::array();
    for (const auto& w : on.webhooks)
        webhooks.push_back({{"provider", w.provider}, {"events", w.events}});
    nlohmann::json events = nlohmann::json::array();
    for (const auto& e : on.events) events.push_back(e.event);

    nlohmann::json inputs_json = nlohmann::json::array();
    for (const auto& i : inputs) {
        nlohmann::json entry = {{"name", i.name},
                                {"type", to_string(i.type)},
                                {"required", i.required},
                                {"description", i.description}};
        if (i.default_value) entry["default"] = i.default_value->raw();
        inputs_json.push_back(entry);
    }
    nlohmann::json steps_json = nlohmann::json::array();
    for (const auto& s : steps) steps_json.push_back(step_json(s));
    nlohmann::json failure_json = nlohmann::json::array();
    for (const auto& s : on_failure) failure_json.push_back(step_json(s));

    nlohmann::json out = {
        {"name", name},
        {"version", version},
        {"description", description},
        {"file", file},
        {"on",
         {{"schedule", schedules},
          {"webhook", webhooks},
          {"event", events},
          {"command", on.command}}},
        {"inputs", inputs_json},
        {"steps", steps_json},
        {"on_failure", failure_json},
    };
    out["concurrency"] = concurrency ? nlohmann::json{{"key", concurrency->key.text()},
                                                      {"limit", concurrency->limit}}
                                     : nlohmann::json(nullptr);
    return out;
}

}  // namespace artistsaid::workflow
