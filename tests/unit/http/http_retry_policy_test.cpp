#include "engine/http/http_retry_policy.hpp"

#include <doctest/doctest.h>

#include "engine/http/curl_error.hpp"

using namespace artistsaid::http;
using namespace std::chrono_literals;

namespace {
HttpResponse with_status(long status, std::optional<std::string> retry_after = std::nullopt) {
    HttpResponse r;
    r.status = status;
    if (retry_after) r.headers.emplace_back("retry-after", *retry_after);
    return r;
}
HttpRequest request(std::string method) {
    HttpRequest r;
    r.method = std::move(method);
    r.url = "https://api.example.com/v1/x";
    return r;
}
}  // namespace

TEST_CASE("HttpRetry.ParseRetryAfter") {
    auto now = std::chrono::system_clock::from_time_t(784111777);  // Sun, 06 Nov 1994 08:49:37 GMT
    CHECK(parse_retry_after("120", now) == std::optional(std::chrono::milliseconds(120000)));
    CHECK(parse_retry_after(" 0 ", now) == std::optional(std::chrono::milliseconds(0)));
    CHECK(parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now) ==
          std::optional(std::chrono::milliseconds(30000)));
    CHECK(parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now) ==
          std::optional(std::chrono::milliseconds(0)));  // in the past: now
    CHECK_FALSE(parse_retry_after("", now));
    CHECK_FALSE(parse_retry_after("-5", now));
    CHECK_FALSE(parse_retry_after("soon", now));
    CHECK_FALSE(parse_retry_after("1.5", now));
}

TEST_CASE("HttpRetry.WhichResponsesAreRetried") {
    HttpRetryPolicy p;
    CHECK(p.delay_after(request("POST"), with_status(429, "3"), 1) == std::optional(3000ms));
    CHECK(p.delay_after(request("POST"), with_status(503), 1).has_value());
    CHECK_FALSE(p.delay_after(request("POST"), with_status(500), 1));
    CHECK(p.delay_after(request("GET"), with_status(502), 1).has_value());
    CHECK_FALSE(p.delay_after(request("GET"), with_status(404), 1));
    CHECK_FALSE(p.delay_after(request("GET"), with_status(200), 1));
    CHECK_FALSE(p.delay_after(request("GET"), with_status(503), p.max_attempts));
    p.idempotent = true;
    CHECK(p.delay_after(request("POST"), with_status(500), 1).has_value());
}

TEST_CASE("HttpRetry.BackoffIsExponentialWithEqualJitterAndCapped") {
    HttpRetryPolicy p;
    p.max_attempts = 20;
    p.base_delay = 100ms;
    p.max_delay = 1s;
    for (int i = 0; i < 50; ++i) {
        auto d1 = *p.delay_after(request("GET"), with_status(503), 1);
        CHECK(d1 >= 50ms);
        CHECK(d1 <= 100ms);
        auto d3 = *p.delay_after(request("GET"), with_status(503), 3);
        CHECK(d3 >= 200ms);
        CHECK(d3 <= 400ms);
        auto d10 = *p.delay_after(request("GET"), with_status(503), 10);
        CHECK(d10 >= 500ms);
        CHECK(d10 <= 1000ms);
    }
}

TEST_CASE("HttpRetry.NoRetryPastTheDeadlineOrBeyondMaxDelay") {
    HttpRetryPolicy p;
    auto r = request("GET");
    r.deadline = std::chrono::system_clock::now() + 2s;
    CHECK_FALSE(p.delay_after(r, with_status(503, "10"), 1));
    p.max_delay = 5s;
    CHECK_FALSE(p.delay_after(request("GET"), with_status(503, "60"), 1));
}

TEST_CASE("HttpRetry.TransportErrors") {
    HttpRetryPolicy p;
    TransportError not_sent("x", TransportError::Outcome::kNotSent, 7, false);
    TransportError unknown("x", TransportError::Outcome::kOutcomeUnknown, 28, true);
    TransportError too_large("x", TransportError::Outcome::kResponseTooLarge, 23, false);
    CHECK(p.delay_after(request("POST"), not_sent, 1).has_value());
    CHECK_FALSE(p.delay_after(request("POST"), unknown, 1));
    CHECK(p.delay_after(request("PUT"), unknown, 1).has_value());
    CHECK_FALSE(p.delay_after(request("GET"), too_large, 1));
    p.idempotent = true;
    CHECK(p.delay_after(request("POST"), unknown, 1).has_value());
}

TEST_CASE("HttpRequest.FormEncodingAndDescribe") {
    CHECK(form_encode({{"a b", "x+y/z"}, {"ü", "~._-"}}) == "a%20b=x%2By%2Fz&%C3%BC=~._-");
    HttpRequest r;
    r.method = "POST";
    r.url = "https://user:secret@api.example.com/v1/charges?key=sk_live_1#frag";
    CHECK(r.describe() == "POST https://api.example.com/v1/charges");
}
