#include "engine/http/http_retry_policy.hpp"

#include <time.h>

#include <algorithm>
#include <cctype>
#include <curl/curl.h>
#include <random>
#include <thread>

#include "engine/http/curl_error.hpp"

namespace artistsaid::http {
namespace {

using std::chrono::milliseconds;

bool safe_method(const std::string& m) {
    return m == "GET" || m == "HEAD" || m == "PUT" || m == "DELETE" || m == "OPTIONS";
}

milliseconds backoff(const HttpRetryPolicy& p, int attempt) {
    auto d = p.base_delay;
    for (int i = 1; i < attempt && d < p.max_delay; ++i) d *= 2;
    d = std::min(d, p.max_delay);
    thread_local std::mt19937_64 rng{std::random_device{}()};
    const auto half = d.count() / 2;
    std::uniform_int_distribution<long long> jitter(0, half);
    return milliseconds(d.count() - half + jitter(rng));  // equal jitter
}

std::optional<milliseconds> within_deadline(const HttpRequest& request, milliseconds delay) {
    if (request.deadline && std::chrono::system_clock::now() + delay >= *request.deadline)
        return std::nullopt;
    return delay;
}

}  // namespace

std::optional<milliseconds> parse_retry_after(const std::string& raw,
                                              std::chrono::system_clock::time_point now) {
    std::string value = raw;
    while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.pop_back();
    while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front())))
        value.erase(value.begin());
    if (value.empty()) return std::nullopt;
    if (std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isdigit(c); })) {
        if (value.size() > 9) return std::nullopt;  // over 31 years: not a real hint
        return milliseconds(std::stoll(value) * 1000);
    }
    struct tm tm {};
    const char* end = strptime(value.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (end == nullptr || *end != '\0') return std::nullopt;
    auto at = std::chrono::system_clock::from_time_t(timegm(&tm));
    auto delta = std::chrono::duration_cast<milliseconds>(at - now);
    return std::max(delta, milliseconds(0));
}

std::optional<milliseconds> HttpRetryPolicy::delay_after(const HttpRequest& request,
                                                         const HttpResponse& response,
                                                         int attempt) const {
    if (attempt >= max_attempts) return std::nullopt;
    const long s = response.status;
    const bool throttled = s == 429 || s == 503;
    const bool server_error = s == 500 || s == 502 || s == 504;
    if (!throttled && !(server_error && (idempotent || safe_method(request.method))))
        return std::nullopt;
    if (auto ra = response.header("retry-after")) {
        if (auto delay = parse_retry_after(*ra, std::chrono::system_clock::now())) {
            if (*delay > max_delay) return std::nullopt;
            return within_deadline(request, *delay);
        }
    }
    return within_deadline(request, backoff(*this, attempt));
}

std::optional<milliseconds> HttpRetryPolicy::delay_after(const HttpRequest& request,
                                                         const TransportError& error,
                                                         int attempt) const {
    if (attempt >= max_attempts) return std::nullopt;
    using Outcome = TransportError::Outcome;
    switch (error.outcome()) {
        case Outcome::kNotSent: break;
        case Outcome::kOutcomeUnknown:
            if (!idempotent && !safe_method(request.method)) return std::nullopt;
            break;
        case Outcome::kResponseTooLarge:
        case Outcome::kCancelled: return std::nullopt;
    }
    return within_deadline(request, backoff(*this, attempt));
}

RetryingSendResult send_with_retries(const HttpClient& client, const HttpRequest& request,
                                     const HttpRetryPolicy& policy,
                                     const std::function<void(milliseconds)>& sleeper) {
    auto pause = [&](milliseconds d) {
        if (sleeper) return sleeper(d);
        // Sleep in slices so a cancel request ends the wait promptly.
        const auto until = std::chrono::steady_clock::now() + d;
        while (std::chrono::steady_clock::now() < until) {
            if (request.cancel != nullptr && request.cancel->load()) return;
            std::this_thread::sleep_for(
                std::min<std::chrono::steady_clock::duration>(milliseconds(50),
                                                              until - std::chrono::steady_clock::now()));
        }
    };
    for (int attempt = 1;; ++attempt) {
        std::optional<milliseconds> delay;
        try {
            HttpResponse response = client.send(request);
            delay = policy.delay_after(request, response, attempt);
            if (!delay) return {std::move(response), attempt};
        } catch (const TransportError& e) {
            delay = policy.delay_after(request, e, attempt);
            if (!delay) throw;
        }
        pause(*delay);
        if (request.cancel != nullptr && request.cancel->load())
            throw TransportError(request.describe() + ": cancelled while waiting to retry",
                                 TransportError::Outcome::kCancelled, CURLE_ABORTED_BY_CALLBACK, false);
    }
}

}  // namespace artistsaid::http
