// When to try an HTTP request again, and after how long — a small policy callers apply
// around HttpClient::send (http.request, gateways).
//
// Retried: requests that were never sent; 429 and 503 (honouring Retry-After, in seconds
// or as an HTTP date); 500/502/504 and unknown outcomes only when the request is safe to
// repeat (GET/HEAD/PUT/DELETE/OPTIONS, or the caller marks it idempotent because it
// carries an idempotency key the server honours). The delay is exponential with equal
// jitter, capped by max_delay; a Retry-After above max_delay, or a retry that would end
// after the request's deadline, is not attempted — the last response or error stands.
// Thread-safety: immutable; share freely.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "engine/http/http_client.hpp"

namespace artistsaid::http {

struct HttpRetryPolicy {
    int max_attempts = 3;
    std::chrono::milliseconds base_delay{std::chrono::milliseconds(200)};
    std::chrono::milliseconds max_delay{std::chrono::seconds(30)};
    /// The request may be repeated even if its outcome is unknown (idempotency key sent).
    bool idempotent = false;

    /// The delay before attempt `attempt + 1` after `response`, or nullopt: do not retry.
    std::optional<std::chrono::milliseconds> delay_after(const HttpRequest& request,
                                                         const HttpResponse& response,
                                                         int attempt) const;
    /// The same after a transport error.
    std::optional<std::chrono::milliseconds> delay_after(const HttpRequest& request,
                                                         const class TransportError& error,
                                                         int attempt) const;
};

/// Retry-After's value as a delay from `now`: delta-seconds or an IMF-fixdate. nullopt if
/// it is neither.
std::optional<std::chrono::milliseconds> parse_retry_after(
    const std::string& value, std::chrono::system_clock::time_point now);

struct RetryingSendResult {
    HttpResponse response;
    int attempts = 0;
};

/// Sends with retries under `policy`, sleeping between attempts (the sleep is cut short by
/// request.cancel). Throws the last TransportError when no response came.
/// `sleeper` replaces the sleep (tests); by default it sleeps.
RetryingSendResult send_with_retries(
    const HttpClient& client, const HttpRequest& request, const HttpRetryPolicy& policy,
    const std::function<void(std::chrono::milliseconds)>& sleeper = {});

}  // namespace artistsaid::http
