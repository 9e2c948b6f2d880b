// GET /metrics: the Prometheus text exposition format (version 0.0.4).
//   artistsaid_up, artistsaid_dependency_up{dependency}
//   artistsaid_http_connections, artistsaid_http_responses_total{route,code}
//   artistsaid_queue_jobs{queue,state}  (ready, delayed, running, dead, parked)
//   artistsaid_queue_jobs_{enqueued,processed,failed,retried}_total{queue}
//   artistsaid_runs{workflow,status}
//   artistsaid_step_duration_seconds (histogram over finished steps, fan-out items excluded)
//   artistsaid_webhook_requests_total{provider,outcome}  (this process)
//   artistsaid_webhook_events{provider,outcome}  (stored: processed, pending, failed)
// Queue, run and webhook-event figures are read from Redis and PostgreSQL at each scrape,
// so every server reports the same totals; a dependency that is down is reported by
// artistsaid_dependency_up 0 and its families are left out.
// Thread-safety: render() may run on several workers at once.
#pragma once

#include <functional>
#include <pqxx/pqxx>
#include <string>

#include "engine/http/server_metrics.hpp"
#include "engine/queue/redis_connection.hpp"

namespace artistsaid::http {

class MetricsExporter {
public:
    MetricsExporter(const ServerMetrics& metrics, std::string queue_prefix,
                    std::function<int()> open_connections)
        : metrics_(metrics), queue_prefix_(std::move(queue_prefix)),
          open_connections_(std::move(open_connections)) {}

    /// Either connection may be null (unreachable).
    std::string render(pqxx::connection* pg, queue::RedisConnection* redis) const;

private:
    const ServerMetrics& metrics_;
    std::string queue_prefix_;
    std::function<int()> open_connections_;
};

/// A label value escaped for the text format (backslash, double quote, newline).
std::string escape_label(const std::string& value);

}  // namespace artistsaid::http
