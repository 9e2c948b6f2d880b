// Partner systems (POST /hooks/generic/{name}): `X-Webhook-Timestamp: <unix seconds>` and
// `X-Webhook-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">` under the
// hook's own secret; the timestamp must be within the replay window. The body is a JSON
// object with a string `id` (the event id), `type`, and optionally `key`.
#pragma once

#include <chrono>

#include "engine/http/webhook_verifier.hpp"

namespace artistsaid::http {

class GenericWebhookVerifier : public WebhookVerifier {
public:
    GenericWebhookVerifier(std::string name, std::string secret, std::chrono::seconds window)
        : name_(std::move(name)), secret_(std::move(secret)), window_(window) {}
    std::string_view provider() const override { return name_; }
    WebhookEvent verify(const Request& request, const std::string& url) const override;

private:
    std::string name_;
    std::string secret_;
    std::chrono::seconds window_;
};

}  // namespace artistsaid::http
