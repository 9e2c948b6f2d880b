// HttpClient against a real HTTP server on 127.0.0.1 (tests/support/servers/http_test_server.py).
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>
#include <thread>
#include <vector>

#include "engine/http/curl_error.hpp"
#include "engine/http/http_client.hpp"
#include "engine/http/http_retry_policy.hpp"
#include "tests/support/local_server.hpp"
#include "tests/support/test_env.hpp"

using namespace artistsaid;
using namespace artistsaid::http;
using namespace std::chrono_literals;

namespace {

test::LocalServer& server() {
    static test::LocalServer s("http_test_server.py");
    return s;
}

HttpRequest get(const std::string& path) {
    HttpRequest r;
    r.url = server().base_url() + path;
    r.timeout = 20s;
    return r;
}

// A loopback port nobody listens on: bound, then closed.
int closed_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

}  // namespace

TEST_CASE("HttpClient.SendsMethodHeadersAndBodyAndReadsTheResponse") {
    HttpClient client;
    HttpRequest r = get("/echo?x=1");
    r.method = "POST";
    r.header("X-Custom", "value 1").header("Idempotency-Key", "run:step");
    r.json({{"amount", 1250}, {"name", "Zoë"}});
    HttpResponse res = client.send(r);
    CHECK(res.status == 200);
    CHECK(res.header("content-type") == std::optional<std::string>("application/json"));
    CHECK(res.header("Content-Type") == res.header("content-type"));
    auto echo = res.json();
    CHECK(echo["method"] == "POST");
    CHECK(echo["query"]["x"] == "1");
    CHECK(nlohmann::json::parse(echo["body"].get<std::string>()) ==
          nlohmann::json{{"amount", 1250}, {"name", "Zoë"}});
    std::map<std::string, std::string> got;
    for (auto& h : echo["headers"]) got[h[0].get<std::string>()] = h[1].get<std::string>();
    CHECK(got["X-Custom"] == "value 1");
    CHECK(got["Idempotency-Key"] == "run:step");
    CHECK(got["Content-Type"] == "application/json");
    CHECK(got.count("Expect") == 0);
}

TEST_CASE("HttpClient.FormBodyAndBasicAuth") {
    HttpClient client;
    HttpRequest r = get("/echo");
    r.method = "POST";
    r.form({{"To", "+4915112345678"}, {"Body", "a&b=c d"}}).basic_auth("AC123", "tok:en");
    auto echo = client.send(r).json();
    CHECK(echo["body"] == "To=%2B4915112345678&Body=a%26b%3Dc%20d");
    std::map<std::string, std::string> got;
    for (auto& h : echo["headers"]) got[h[0].get<std::string>()] = h[1].get<std::string>();
    CHECK(got["Authorization"] == "Basic QUMxMjM6dG9rOmVu");  // base64("AC123:tok:en")
    CHECK(got["Content-Type"] == "application/x-www-form-urlencoded");
}

TEST_CASE("HttpClient.ErrorStatusesAreResponsesNotExceptions") {
    HttpClient client;
    auto res = client.send(get("/status/503?retry_after=7"));
    CHECK(res.status == 503);
    CHECK(res.header("retry-after") == std::optional<std::string>("7"));
    CHECK_FALSE(res.ok());
}

TEST_CASE("HttpClient.TimeoutAfterSendingIsAnUnknownOutcome") {
    HttpClient client;
    HttpRequest r = get("/sleep?ms=5000");
    r.timeout = 300ms;
    try {
        client.send(r);
        FAIL("no timeout");
    } catch (const TransportError& e) {
        CHECK(e.timed_out());
        CHECK(e.outcome_unknown());
        CHECK(e.exit_code() == ExitCode::kUnavailable);
    }
}

TEST_CASE("HttpClient.PastDeadlineFailsWithoutSending") {
    HttpClient client;
    HttpRequest r = get("/flaky?key=deadline_past");
    r.deadline = std::chrono::system_clock::now() - 1s;
    try {
        client.send(r);
        FAIL("sent");
    } catch (const TransportError& e) {
        CHECK(e.outcome() == TransportError::Outcome::kNotSent);
        CHECK(e.timed_out());
    }
    CHECK(client.send(get("/hits?key=deadline_past")).json()["hits"] == 0);
}

TEST_CASE("HttpClient.StepDeadlineCutsTheTransfer") {
    HttpClient client;
    HttpRequest r = get("/sleep?ms=5000");
    r.timeout = 60s;
    r.deadline = std::chrono::system_clock::now() + 300ms;
    CHECK_THROWS_AS(client.send(r), TransportError);
}

TEST_CASE("HttpClient.RefusedConnectionWasNotSent") {
    HttpClient client;
    HttpRequest r;
    r.url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/x";
    try {
        client.send(r);
        FAIL("connected");
    } catch (const TransportError& e) {
        CHECK(e.outcome() == TransportError::Outcome::kNotSent);
        CHECK_FALSE(e.timed_out());
    }
}

TEST_CASE("HttpClient.DroppedConnectionIsAnUnknownOutcome") {
    HttpClient client;
    HttpRequest r = get("/drop");
    r.method = "POST";
    r.body = "charge";
    try {
        client.send(r);
        FAIL("got a response");
    } catch (const TransportError& e) {
        CHECK(e.outcome_unknown());
    }
}

TEST_CASE("HttpClient.ResponseBodyLimit") {
    HttpClient client;
    for (std::string chunked : {"0", "1"}) {
        CAPTURE(chunked);
        HttpRequest r = get("/bytes?n=200000&chunked=" + chunked);
        r.max_response_bytes = 100000;
        try {
            client.send(r);
            FAIL("accepted a body over the limit");
        } catch (const TransportError& e) {
            CHECK(e.outcome() == TransportError::Outcome::kResponseTooLarge);
        }
        r = get("/bytes?n=100000&chunked=" + chunked);
        r.max_response_bytes = 100000;
        CHECK(client.send(r).body.size() == 100000);
    }
}

TEST_CASE("HttpClient.RedirectsAreNotFollowedUnlessAsked") {
    HttpClient client;
    auto res = client.send(get("/redirect?to=/echo"));
    CHECK(res.status == 302);
    CHECK(res.header("location") == std::optional<std::string>("/echo"));
    HttpRequest r = get("/redirect?to=/echo");
    r.follow_redirects = true;
    res = client.send(r);
    CHECK(res.status == 200);
    CHECK(res.json()["path"] == "/echo");
    CHECK(res.effective_url.find("/echo") != std::string::npos);
}

TEST_CASE("HttpClient.BadUrlsAreInputErrors") {
    HttpClient client;
    HttpRequest r;
    r.url = "ftp://127.0.0.1/file";
    CHECK_THROWS_AS(client.send(r), InputError);
    r.url = "http://[::1";
    CHECK_THROWS_AS(client.send(r), InputError);
    r = get("/echo");
    r.header("X-Bad", "a\r\nInjected: 1");
    CHECK_THROWS_AS(client.send(r), InputError);
}

TEST_CASE("HttpClient.ReusesConnections") {
    HttpClient client;
    std::set<int> ports;
    for (int i = 0; i < 5; ++i) ports.insert(client.send(get("/echo")).json()["client_port"].get<int>());
    CHECK(ports.size() == 1);
    CHECK(client.connections_opened() == 1);
}

TEST_CASE("HttpClient.ConcurrentCallsDoNotBlockEachOther") {
    // Every request is held by the server until all N have arrived: they can only all
    // succeed if the client has N requests in flight at once.
    HttpClient client;
    for (int n : {1, 2, 8}) {
        CAPTURE(n);
        std::string key = test::unique_name("barrier");
        std::vector<long> statuses(static_cast<std::size_t>(n), 0);
        std::vector<std::thread> threads;
        for (int i = 0; i < n; ++i)
            threads.emplace_back([&, i] {
                HttpRequest r = get("/barrier?key=" + key + "&n=" + std::to_string(n));
                statuses[static_cast<std::size_t>(i)] = client.send(r).status;
            });
        for (auto& t : threads) t.join();
        for (long s : statuses) CHECK(s == 200);
    }
}

TEST_CASE("HttpRetry.RetriesThrottledRequestsHonouringRetryAfter") {
    HttpClient client;
    std::string key = test::unique_name("flaky");
    HttpRequest r = get("/flaky?key=" + key + "&fail=2&retry_after=7");
    r.method = "POST";
    HttpRetryPolicy policy;
    policy.max_attempts = 4;
    std::vector<std::chrono::milliseconds> waits;
    auto result = send_with_retries(client, r, policy, [&](auto d) { waits.push_back(d); });
    CHECK(result.response.status == 200);
    CHECK(result.attempts == 3);
    CHECK(result.response.json()["hits"] == 3);
    REQUIRE(waits.size() == 2);
    CHECK(waits[0] == 7s);
    CHECK(waits[1] == 7s);
}

TEST_CASE("HttpRetry.NonIdempotentPostIsNotRetriedAfterA500") {
    HttpClient client;
    std::string key = test::unique_name("post500");
    HttpRequest r = get("/flaky?key=" + key + "&fail=5&code=500");
    r.method = "POST";
    HttpRetryPolicy policy;
    auto result = send_with_retries(client, r, policy, [](auto) {});
    CHECK(result.response.status == 500);
    CHECK(result.attempts == 1);
    policy.idempotent = true;  // e.g. it carries an Idempotency-Key
    key = test::unique_name("post500k");
    r = get("/flaky?key=" + key + "&fail=1&code=500");
    r.method = "POST";
    result = send_with_retries(client, r, policy, [](auto) {});
    CHECK(result.response.status == 200);
    CHECK(result.attempts == 2);
}

TEST_CASE("HttpRetry.GivesUpAfterMaxAttemptsAndWhenRetryAfterIsTooLong") {
    HttpClient client;
    HttpRetryPolicy policy;
    policy.max_attempts = 2;
    auto key = test::unique_name("giveup");
    auto result = send_with_retries(client, get("/flaky?key=" + key + "&fail=9&retry_after=0"),
                                    policy, [](auto) {});
    CHECK(result.response.status == 503);
    CHECK(result.attempts == 2);
    policy.max_delay = 5s;
    result = send_with_retries(client, get("/status/429?retry_after=3600"), policy, [](auto) {});
    CHECK(result.attempts == 1);
}
