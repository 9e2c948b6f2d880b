#include "gateways/provider_call.hpp"

#include <algorithm>
#include <thread>

#include "engine/core/logging.hpp"
#include "engine/http/curl_error.hpp"
#include "engine/http/http_retry_policy.hpp"

namespace artistsaid::gateways {

ProviderReply ProviderCall::send(const http::HttpClient& client, http::HttpRequest request,
                                 std::chrono::system_clock::time_point deadline,
                                 const ProviderRetry& retry, const Retryable& retryable,
                                 const Sleeper& sleeper) {
    using Clock = std::chrono::system_clock;
    if (deadline.time_since_epoch().count() == 0) deadline = Clock::now() + std::chrono::minutes(2);
    request.deadline = deadline;
    ProviderReply reply;
    for (int attempt = 1; attempt <= retry.max_attempts; ++attempt) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left <= std::chrono::milliseconds(0)) break;
        request.timeout = std::min(retry.attempt_timeout, left);
        request.connect_timeout = std::min(request.connect_timeout, request.timeout);
        reply.attempts = attempt;
        std::optional<std::chrono::milliseconds> retry_after;
        bool again = false;
        try {
            reply.response = client.send(request);
            reply.transport_error.clear();
            again = retryable(*reply.response);
            if (auto value = reply.response->header("retry-after")) {
                retry_after = http::parse_retry_after(*value, Clock::now());
            }
        } catch (const http::TransportError& e) {
            reply.response.reset();
            reply.transport_error = logging::redact(e.what());
            if (e.outcome_unknown()) reply.maybe_executed = true;
            using Outcome = http::TransportError::Outcome;
            again = e.outcome() == Outcome::kNotSent || e.outcome() == Outcome::kOutcomeUnknown;
        }
        if (!again || attempt == retry.max_attempts) break;
        std::chrono::milliseconds backoff = retry.base_delay * (1 << std::min(attempt - 1, 20));
        auto delay = retry_after.value_or(std::min(retry.max_delay, backoff));
        if (delay > retry.max_delay || Clock::now() + delay >= deadline) break;
        if (sleeper) {
            sleeper(delay);
        } else {
            std::this_thread::sleep_for(delay);
        }
    }
    if (!reply.response && reply.transport_error.empty()) {
        reply.transport_error = "the deadline passed before " + request.describe();
    }
    return reply;
}

}  // namespace artistsaid::gateways
