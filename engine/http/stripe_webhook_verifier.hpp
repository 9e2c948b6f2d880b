// Stripe: `Stripe-Signature: t=<unix time>,v1=<hex>[,v1=…][,v0=…]`, where v1 is
// HMAC-SHA256 of "<t>.<raw body>" under the endpoint's signing secret (whsec_…). Any v1
// may match (secret rotation sends two); t must be within the tolerance of now.
#pragma once

#include <chrono>

#include "engine/http/webhook_verifier.hpp"

namespace artistsaid::http {

class StripeWebhookVerifier : public WebhookVerifier {
public:
    StripeWebhookVerifier(std::string secret, std::chrono::seconds tolerance)
        : secret_(std::move(secret)), tolerance_(tolerance) {}
    std::string_view provider() const override { return "stripe"; }
    WebhookEvent verify(const Request& request, const std::string& url) const override;

private:
    std::string secret_;
    std::chrono::seconds tolerance_;
};

/// Checks that `timestamp` (unix seconds, as text) is within `tolerance` of now; throws
/// WebhookRejected (400 if it is not a number, 401 if it is stale).
long long check_timestamp(std::string_view timestamp, std::chrono::seconds tolerance);

}  // namespace artistsaid::http
