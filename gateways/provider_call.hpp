// ProviderCall: one HTTP call to a payment provider with retries inside the call's deadline,
// remembering whether any attempt may have taken effect (shared by Stripe and PayPal).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "engine/http/http_client.hpp"

namespace artistsaid::gateways {

struct ProviderRetry {
    int max_attempts = 3;
    std::chrono::milliseconds attempt_timeout{std::chrono::seconds(30)};
    std::chrono::milliseconds base_delay{std::chrono::milliseconds(500)};
    std::chrono::milliseconds max_delay{std::chrono::seconds(30)};
};

/// What a call came to after its retries.
struct ProviderReply {
    std::optional<http::HttpResponse> response;  // the last response, if one came
    std::string transport_error;                 // why none came (already redacted)
    bool maybe_executed = false;  // some attempt was sent and its answer lost
    int attempts = 0;
};

/// Sends `request` (same headers, same body, so the same idempotency key) up to
/// retry.max_attempts times before `deadline`: again after a transport failure (not sent, or
/// answer lost — safe because the request carries the provider's idempotency key) and after a
/// response `retryable` says yes to, waiting Retry-After or exponential backoff; a wait that
/// would pass the deadline or max_delay ends the call. `sleeper` waits (tests record instead).
/// Thread-safety: stateless.
class ProviderCall {
public:
    using Sleeper = std::function<void(std::chrono::milliseconds)>;
    using Retryable = std::function<bool(const http::HttpResponse&)>;

    static ProviderReply send(const http::HttpClient& client, http::HttpRequest request,
                              std::chrono::system_clock::time_point deadline,
                              const ProviderRetry& retry, const Retryable& retryable,
                              const Sleeper& sleeper);
};

}  // namespace artistsaid::gateways
