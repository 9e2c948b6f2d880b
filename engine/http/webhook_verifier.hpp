// The extension point for webhook providers: a verifier checks that a delivery really
// comes from its provider (signature, replay window) and turns it into a WebhookEvent.
// Verifiers are registered in one place (webhook_verifiers.cpp).
// Thread-safety: verify() is called from many worker threads at once.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

#include "engine/http/http_application.hpp"

namespace artistsaid::http {

/// A verified delivery.
struct WebhookEvent {
    std::string id;    // the provider's event id: deliveries with the same id are one event
    std::string type;  // the provider's event type (what `on: webhook: events:` lists)
    std::string key;   // correlation key for wait.event (the object the event is about)
    nlohmann::json payload;
};

/// A delivery refused: nothing is stored. `status` is 400 (malformed, missing header) or
/// 401 (wrong signature, stale timestamp); 503 when the provider's verification service
/// could not be reached (the provider delivers again later).
class WebhookRejected : public std::runtime_error {
public:
    WebhookRejected(unsigned status, std::string code, const std::string& message)
        : std::runtime_error(message), status_(status), code_(std::move(code)) {}
    unsigned status() const noexcept { return status_; }
    const std::string& code() const noexcept { return code_; }

private:
    unsigned status_;
    std::string code_;
};

class WebhookVerifier {
public:
    virtual ~WebhookVerifier() = default;
    /// The provider name stored with the events and matched against `on: webhook: provider:`.
    virtual std::string_view provider() const = 0;
    /// Verifies `request` (whose full URL, as the provider called it, is `url`) and parses
    /// it; throws WebhookRejected.
    virtual WebhookEvent verify(const Request& request, const std::string& url) const = 0;
};

}  // namespace artistsaid::http
