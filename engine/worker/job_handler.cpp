#include "engine/worker/job_handler.hpp"

#include "engine/core/error.hpp"

namespace artistsaid::worker {

void HandlerRegistry::add(std::unique_ptr<JobHandler> handler) {
    std::string type(handler->type());
    if (!handlers_.emplace(type, std::move(handler)).second)
        throw Error(ErrorCode::kInternal, "two handlers registered for job type '" + type + "'");
}

void HandlerRegistry::add(std::string type, std::function<void(const JobContext&)> fn) {
    add(std::make_unique<FunctionHandler>(std::move(type), std::move(fn)));
}

JobHandler* HandlerRegistry::find(std::string_view type) const {
    auto it = handlers_.find(type);
    return it == handlers_.end() ? nullptr : it->second.get();
}

std::vector<std::string> HandlerRegistry::types() const {
    std::vector<std::string> out;
    for (const auto& [type, handler] : handlers_) out.push_back(type);
    return out;
}

}  // namespace artistsaid::worker
