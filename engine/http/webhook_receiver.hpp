// POST /hooks/<provider> and /hooks/generic/<name>: verify, store, then act.
//
// Guarantee: an event answered 2xx is in webhook_events first; a delivery with an id
// already stored (a redelivery, or the same event sent several times at once) is answered
// 200 "duplicate" and starts nothing: the unique (provider, provider_event_id) decides.
// Processing — starting every workflow whose `on: webhook` matches (one run per workflow
// and event: the start's dedupe key is webhook:<provider>:<event id>:<workflow>) and
// emitting the event (name = the event type, key = the correlation key) to steps waiting
// in wait.event — follows the insert; if it is interrupted, process_pending() (run by each
// server every 15 s) finishes it. Refused deliveries store nothing.
// Thread-safety: receive() and process_pending() run on many worker threads at once.
#pragma once

#include <functional>
#include <pqxx/pqxx>
#include <string>

#include "engine/http/http_application.hpp"
#include "engine/http/server_metrics.hpp"
#include "engine/http/webhook_verifiers.hpp"
#include "engine/runtime/run_engine.hpp"
#include "engine/workflow/workflow_directory.hpp"

namespace artistsaid::http {

/// The current workflows (reloaded at each call, so edited YAML takes effect at once).
using WorkflowLoader = std::function<workflow::WorkflowDirectory()>;

class WebhookReceiver {
public:
    WebhookReceiver(const WebhookVerifiers& verifiers, runtime::RunEngine& engine,
                    WorkflowLoader workflows, ServerMetrics& metrics)
        : verifiers_(verifiers), engine_(engine), workflows_(std::move(workflows)), metrics_(metrics) {}

    /// `hook` is the path after /hooks/ ("stripe", "generic/partner"); `url` the full URL
    /// the provider called (for Twilio's signature).
    Response receive(const Request& request, const std::string& hook, const std::string& url,
                     pqxx::connection& pg);
    /// Processes stored events whose processing did not finish; returns how many.
    int process_pending(pqxx::connection& pg, int limit = 100);

private:
    struct Stored {
        std::string row_id;
        std::string provider;
        std::string event_id;
        std::string type;
        std::string key;
        nlohmann::json payload;
    };
    nlohmann::json process(pqxx::connection& pg, const Stored& event);

    const WebhookVerifiers& verifiers_;
    runtime::RunEngine& engine_;
    WorkflowLoader workflows_;
    ServerMetrics& metrics_;
};

}  // namespace artistsaid::http
