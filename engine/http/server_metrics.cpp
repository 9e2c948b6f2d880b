#include "engine/http/server_metrics.hpp"

namespace artistsaid::http {

void ServerMetrics::count_response(const std::string& route, unsigned status) {
    std::lock_guard lock(mutex_);
    ++responses_[{route, status}];
}

void ServerMetrics::count_webhook(const std::string& provider, const std::string& outcome) {
    std::lock_guard lock(mutex_);
    ++webhooks_[{provider, outcome}];
}

std::map<std::pair<std::string, unsigned>, long long> ServerMetrics::responses() const {
    std::lock_guard lock(mutex_);
    return responses_;
}

std::map<std::pair<std::string, std::string>, long long> ServerMetrics::webhooks() const {
    std::lock_guard lock(mutex_);
    return webhooks_;
}

}  // namespace artistsaid::http
