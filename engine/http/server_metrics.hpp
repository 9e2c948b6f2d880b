// Counters the server keeps in memory (since the process started), rendered by
// MetricsExporter next to what it reads from Redis and PostgreSQL.
// Thread-safety: every member may be called from any thread.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <tuple>

namespace artistsaid::http {

class ServerMetrics {
public:
    /// A response: `route` is a fixed label ("api", "hooks", "metrics", …), never the path.
    void count_response(const std::string& route, unsigned status);
    /// A webhook delivery: outcome is accepted | duplicate | rejected | unknown_provider |
    /// unavailable.
    void count_webhook(const std::string& provider, const std::string& outcome);

    std::map<std::pair<std::string, unsigned>, long long> responses() const;
    std::map<std::pair<std::string, std::string>, long long> webhooks() const;

private:
    mutable std::mutex mutex_;
    std::map<std::pair<std::string, unsigned>, long long> responses_;
    std::map<std::pair<std::string, std::string>, long long> webhooks_;
};

}  // namespace artistsaid::http
