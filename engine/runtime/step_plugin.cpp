#include "engine/runtime/step_plugin.hpp"

#include "engine/core/error.hpp"

namespace artistsaid::runtime {

StepResult StepResult::success(nlohmann::json outputs) {
    StepResult r;
    r.outputs = std::move(outputs);
    return r;
}

StepResult StepResult::failure(std::string error, bool retryable) {
    StepResult r;
    r.kind = Kind::kFailed;
    r.error = std::move(error);
    r.retryable = retryable;
    return r;
}

StepResult StepResult::wait_until(std::chrono::system_clock::time_point at) {
    StepResult r;
    r.kind = Kind::kWait;
    r.resume_at = at;
    return r;
}

StepResult StepResult::wait_for_event(std::string event, std::string key,
                                      std::optional<std::chrono::system_clock::time_point> timeout_at) {
    StepResult r;
    r.kind = Kind::kWaitEvent;
    r.event = std::move(event);
    r.key = std::move(key);
    r.resume_at = timeout_at;
    return r;
}

StepResult StepResult::start_child(std::string workflow, nlohmann::json inputs) {
    StepResult r;
    r.kind = Kind::kStartChild;
    r.event = std::move(workflow);
    r.outputs = inputs.is_null() ? nlohmann::json::object() : std::move(inputs);
    return r;
}

void StepRegistry::add(std::unique_ptr<StepPlugin> plugin) {
    std::string name = plugin->descriptor().name;
    if (!plugins_.emplace(name, std::move(plugin)).second)
        throw Error(ErrorCode::kInternal, "two step plugins registered as '" + name + "'");
}

StepPlugin* StepRegistry::find(std::string_view name) const {
    auto it = plugins_.find(name);
    return it == plugins_.end() ? nullptr : it->second.get();
}

workflow::StepCatalog StepRegistry::catalog() const {
    workflow::StepCatalog catalog;
    for (const auto& [name, plugin] : plugins_) catalog.add(plugin->descriptor());
    return catalog;
}

}  // namespace artistsaid::runtime
