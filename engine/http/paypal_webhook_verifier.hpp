// PayPal: a delivery carries PAYPAL-TRANSMISSION-ID, -TRANSMISSION-TIME, -TRANSMISSION-SIG,
// -CERT-URL and -AUTH-ALGO headers; PayPal's own API (POST
// /v1/notifications/verify-webhook-signature, after an OAuth client-credentials token from
// /v1/oauth2/token) says whether they sign this body for our webhook id. The base URL is
// configurable (http.paypal_api_url) so tests use a local server. The raw body is passed as
// `webhook_event` unchanged (re-serialising JSON would change what was signed).
// Calls go through the process's shared HTTP client (engine/http/http_client.hpp).
// Thread-safety: the access token is cached under a mutex.
#pragma once

#include <chrono>
#include <mutex>

#include "engine/http/http_client.hpp"
#include "engine/http/webhook_verifier.hpp"

namespace artistsaid::http {

struct PayPalCredentials {
    std::string api_url;  // https://api-m.paypal.com, or the sandbox
    std::string client_id;
    std::string client_secret;
    std::string webhook_id;
};

class PayPalWebhookVerifier : public WebhookVerifier {
public:
    PayPalWebhookVerifier(PayPalCredentials credentials, std::chrono::seconds tolerance,
                          std::chrono::milliseconds call_timeout)
        : credentials_(std::move(credentials)),
          tolerance_(tolerance),
          call_timeout_(call_timeout),
          client_(HttpClient::shared()) {}
    std::string_view provider() const override { return "paypal"; }
    WebhookEvent verify(const Request& request, const std::string& url) const override;

private:
    std::string access_token(bool renew) const;
    /// POSTs `request` (Accept: JSON, the call timeout, a 1 MiB answer limit) through the
    /// shared client; UnavailableError when PayPal cannot be reached in time.
    HttpResponse post(HttpRequest request) const;

    PayPalCredentials credentials_;
    std::chrono::seconds tolerance_;
    std::chrono::milliseconds call_timeout_;
    const HttpClient& client_;
    mutable std::mutex token_mutex_;
    mutable std::string token_;
    mutable std::chrono::steady_clock::time_point token_expires_{};
};

}  // namespace artistsaid::http
