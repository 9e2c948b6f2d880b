#include "engine/http/paypal_webhook_verifier.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "engine/core/error.hpp"
#include "engine/http/paypal_delivery.hpp"

namespace artistsaid::http {

HttpResponse PayPalWebhookVerifier::post(HttpRequest request) const {
    request.method = "POST";
    request.header("Accept", "application/json");
    request.timeout = call_timeout_;
    request.connect_timeout = std::min(request.connect_timeout, call_timeout_);
    request.max_response_bytes = 1024 * 1024;
    try {
        return client_.send(request);
    } catch (const InputError& e) {
        // http.paypal_api_url is not a usable URL: PayPal cannot be asked.
        throw UnavailableError(std::string("PayPal's API URL: ") + e.what());
    }
}

std::string PayPalWebhookVerifier::access_token(bool renew) const {
    std::lock_guard lock(token_mutex_);
    if (!renew && !token_.empty() && std::chrono::steady_clock::now() < token_expires_)
        return token_;
    HttpRequest request;
    request.url = credentials_.api_url + "/v1/oauth2/token";
    request.form({{"grant_type", "client_credentials"}})
        .basic_auth(credentials_.client_id, credentials_.client_secret);
    auto response = post(std::move(request));
    auto body = nlohmann::json::parse(response.body, nullptr, false);
    if (response.status != 200 || !body.is_object() || !body.contains("access_token") ||
        !body["access_token"].is_string()) {
        spdlog::error("PayPal refused our OAuth credentials (HTTP {})", response.status);
        throw UnavailableError("PayPal did not grant an access token (HTTP " +
                               std::to_string(response.status) + ")");
    }
    token_ = body["access_token"];
    long long expires = body.value("expires_in", 300LL);
    token_expires_ = std::chrono::steady_clock::now() +
                     std::chrono::seconds(std::max(0LL, expires - 60));
    return token_;
}

WebhookEvent PayPalWebhookVerifier::verify(const Request& request, const std::string&) const {
    PayPalDelivery d = read_paypal_delivery(request, tolerance_);
    // The raw body goes in as webhook_event: it is valid JSON (checked above).
    const std::string call = "{\"auth_algo\":" + nlohmann::json(d.auth_algo).dump() +
                             ",\"cert_url\":" + nlohmann::json(d.cert_url).dump() +
                             ",\"transmission_id\":" + nlohmann::json(d.transmission_id).dump() +
                             ",\"transmission_sig\":" + nlohmann::json(d.transmission_sig).dump() +
                             ",\"transmission_time\":" + nlohmann::json(d.transmission_time).dump() +
                             ",\"webhook_id\":" + nlohmann::json(credentials_.webhook_id).dump() +
                             ",\"webhook_event\":" + request.body() + "}";
    HttpResponse response;
    try {
        for (int attempt = 0; attempt < 2; ++attempt) {
            HttpRequest request;
            request.url = credentials_.api_url + "/v1/notifications/verify-webhook-signature";
            request.header("Content-Type", "application/json").bearer(access_token(attempt > 0));
            request.body = call;
            response = post(std::move(request));
            if (response.status != 401) break;  // an expired token: renew it once
        }
    } catch (const UnavailableError& e) {
        throw WebhookRejected(503, "provider_unavailable",
                              std::string("PayPal's verification API: ") + e.what());
    }
    auto verdict = nlohmann::json::parse(response.body, nullptr, false);
    if (response.status != 200 || !verdict.is_object() ||
        !verdict.contains("verification_status"))
        throw WebhookRejected(503, "provider_unavailable",
                              "PayPal's verification API answered HTTP " +
                                  std::to_string(response.status));
    if (verdict["verification_status"] != "SUCCESS")
        throw WebhookRejected(401, "bad_signature", "PayPal did not verify the signature");
    return paypal_event(std::move(d.body));
}

}  // namespace artistsaid::http
