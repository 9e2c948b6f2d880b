// What `artistsaid serve` answers: /healthz (inline), /readyz, /metrics, /hooks/*,
// /api/v1/* (API key and rate limit first) and the /ws upgrade (API key of any role).
// Everything but /healthz runs on the server's blocking pool with that worker's own
// PostgreSQL and Redis connections.
// Thread-safety: as HttpApplication requires.
#pragma once

#include <functional>
#include <string>

#include "engine/http/http_application.hpp"
#include "engine/http/metrics_exporter.hpp"
#include "engine/http/rate_limiter.hpp"
#include "engine/http/rest_api.hpp"
#include "engine/http/server_metrics.hpp"
#include "engine/http/webhook_receiver.hpp"
#include "engine/http/webhook_verifiers.hpp"
#include "engine/http/worker_connections.hpp"

namespace artistsaid::http {

struct ServeSettings {
    std::string queue_prefix = "artistsaid";
    /// scheme://host[:port] the providers call us at (Twilio signs the full URL); empty:
    /// http:// and the request's Host header.
    std::string public_url;
    int rate_limit = 20;  // requests per second per API key, on average
    int rate_burst = 40;
};

class ServeApplication : public HttpApplication {
public:
    ServeApplication(ServeSettings settings, WorkerConnections& connections,
                     runtime::RunEngine& engine, WorkflowLoader workflows,
                     const WebhookVerifiers& verifiers, std::function<int()> open_connections);

    std::optional<Response> handle_inline(const Request& request) override;
    Response handle(const Request& request, std::size_t worker) override;
    std::variant<LiveFilter, Response> open_websocket(const Request& request,
                                                      std::size_t worker) override;
    void responded(const Request& request, unsigned status) override;
    void refused(unsigned status) override;

    /// Finishes stored webhook events whose processing was interrupted (periodically).
    void sweep(std::size_t worker);

private:
    Response ready(std::size_t worker);
    Response metrics(std::size_t worker);
    Response api(const Request& request, const std::string& path, std::size_t worker);
    /// The key of `request` (its Authorization header, else `offered`), or the 401/429/503
    /// to answer instead.
    std::variant<ApiKey, Response> authenticate(const Request& request, std::size_t worker,
                                                const std::string& offered = {});

    ServeSettings settings_;
    WorkerConnections& connections_;
    ServerMetrics metrics_;
    WebhookReceiver webhooks_;
    RestApi rest_;
    MetricsExporter exporter_;
    RateLimiter limiter_;
};

}  // namespace artistsaid::http
