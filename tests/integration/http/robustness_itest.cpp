// Malformed HTTP never crashes `serve`: garbage, partial requests cut off at every stage,
// huge request lines and headers, absurd lengths, smuggling attempts, pipelines, a body
// trickled one byte per second, and garbage after a WebSocket upgrade — sent by several
// clients at once while a well-behaved client keeps being answered. Every loop is bounded
// in count, every read has a deadline.
#include <doctest/doctest.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <random>
#include <thread>

#include "tests/integration/http/prometheus_text_checker.hpp"
#include "tests/integration/http/serve_fixture.hpp"

using namespace artistsaid;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

struct Abuse {
    std::string what;
    std::string bytes;
    bool half_close = false;  // shut our side down after sending (the peer sees EOF)
};

// What the abusive clients send. A reply, if one comes, must be a 4xx (or, for requests
// that are in fact well-formed, a 2xx): never a 5xx, which would mean the server broke.
std::vector<Abuse> abuses() {
    const std::string h = "Host: 127.0.0.1\r\n";
    std::vector<Abuse> a = {
        {"request line cut off", "GET /hea", true},
        {"headers cut off", "GET /healthz HTTP/1.1\r\n" + h + "X-Half: ", true},
        {"body cut off",
         "POST /api/v1/events HTTP/1.1\r\n" + h + "Content-Length: 100\r\n\r\n{\"name\":", true},
        {"chunked body cut off",
         "POST /hooks/stripe HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n10\r\nabc",
         true},
        {"garbage", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 TLS hello to a plain server"},
        {"huge request line",
         "GET /" + std::string(200 * 1024, 'a') + " HTTP/1.1\r\n" + h + "\r\n"},
        {"many headers",
         [&] {
             std::string s = "GET /healthz HTTP/1.1\r\n" + h;
             for (int i = 0; i < 5000; ++i) s += "X-H" + std::to_string(i) + ": v\r\n";
             return s + "\r\n";
         }()},
        {"one huge header",
         "GET /healthz HTTP/1.1\r\n" + h + "X-Big: " + std::string(1024 * 1024, 'b') + "\r\n\r\n"},
        {"absurd content length", "POST /api/v1/events HTTP/1.1\r\n" + h +
                                      "Content-Length: 99999999999999999999999999\r\n\r\n"},
        {"negative content length",
         "POST /api/v1/events HTTP/1.1\r\n" + h + "Content-Length: -5\r\n\r\nhello"},
        {"chunk size overflow",
         "POST /hooks/stripe HTTP/1.1\r\n" + h +
             "Transfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\nx\r\n"},
        {"chunk size not hex", "POST /hooks/stripe HTTP/1.1\r\n" + h +
                                   "Transfer-Encoding: chunked\r\n\r\nzz;ext=\"\r\nx\r\n0\r\n\r\n"},
        {"smuggling: length and chunked",
         "POST /hooks/stripe HTTP/1.1\r\n" + h +
             "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /readyz "
             "HTTP/1.1\r\n\r\n"},
        {"two content lengths", "POST /hooks/stripe HTTP/1.1\r\n" + h +
                                    "Content-Length: 1\r\nContent-Length: 2\r\n\r\nab"},
        {"NUL in a header",
         std::string("GET /healthz HTTP/1.1\r\nX-Nul: a\0b\r\n", 35) + h + "\r\n"},
        {"obsolete line folding", "GET /healthz HTTP/1.1\r\n" + h + "X-Fold: a\r\n  b\r\n\r\n"},
        {"bare LF line ends", "GET /healthz HTTP/1.1\nHost: x\n\n"},
        {"space before colon", "GET /healthz HTTP/1.1\r\nHost : x\r\n\r\n"},
        {"unknown method", "BREW /healthz HTTP/1.1\r\n" + h + "\r\n"},
        {"absolute-form target", "GET http://evil.example/healthz HTTP/1.1\r\n" + h + "\r\n"},
        {"percent garbage in the API", "GET /api/v1/runs/%zz%00%ff?status=%%% HTTP/1.1\r\n" + h +
                                           "Authorization: Bearer x\r\n\r\n"},
        {"bad auth header", "GET /api/v1/workflows HTTP/1.1\r\n" + h +
                                "Authorization: Bearer \xff\xfe\x00\x01\r\n\r\n"},
        {"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"},
        {"HTTP/0.9", "GET /healthz\r\n\r\n"},
        {"upgrade to websocket without a key", "GET /ws HTTP/1.1\r\n" + h +
                                                   "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                                   "Sec-WebSocket-Version: 13\r\n\r\n"},
        {"upgrade with a bad version", "GET /ws HTTP/1.1\r\n" + h +
                                           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                           "Sec-WebSocket-Key: x\r\nSec-WebSocket-Version: 99\r\n"
                                           "Authorization: Bearer nope\r\n\r\n"},
        {"expect 100-continue then nothing",
         "POST /api/v1/events HTTP/1.1\r\n" + h +
             "Expect: 100-continue\r\nContent-Length: 50\r\n\r\n",
         true},
    };
    return a;
}

// Reads up to the end of a response head ("\r\n\r\n") and returns it; "" on a deadline or
// close. For the 101 of a WebSocket upgrade, after which the connection is no longer HTTP.
std::string read_head(int fd, std::chrono::milliseconds timeout) {
    std::string head;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (head.find("\r\n\r\n") == std::string::npos) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return {};
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return {};
        char c;
        if (::recv(fd, &c, 1, 0) != 1) return {};
        head.push_back(c);
    }
    return head;
}

}  // namespace

TEST_CASE("Serve.Robustness.MalformedAndPartialRequestsFromManyClientsNeverStopTheServer") {
    test::ServeFixture f;
    f.start({{"ARTISTSAID_HTTP_READ_TIMEOUT", "3s"}, {"ARTISTSAID_HTTP_IDLE_TIMEOUT", "3s"}});
    const auto cases = abuses();
    std::atomic<int> server_errors{0}, answered{0};
    std::vector<std::string> five_hundreds;
    std::mutex five_hundreds_mutex;
    auto abuse = [&](std::size_t seed) {
        std::mt19937 rng(static_cast<unsigned>(seed));
        for (std::size_t i = 0; i < cases.size(); ++i) {
            const auto& c = cases[(i + seed) % cases.size()];
            test::HttpConnection conn(f.port);
            conn.send(c.bytes);
            if (c.half_close) ::shutdown(conn.fd(), SHUT_WR);
            std::optional<test::HttpReply> reply;
            try {
                reply = conn.read_reply(8s);
            } catch (const std::exception&) {
                // Not an HTTP response line at all would be a server bug too.
                std::lock_guard lock(five_hundreds_mutex);
                five_hundreds.push_back(c.what + ": unparseable reply");
            }
            if (reply) {
                ++answered;
                if (reply->status >= 500) {
                    ++server_errors;
                    std::lock_guard lock(five_hundreds_mutex);
                    five_hundreds.push_back(c.what + ": " + std::to_string(reply->status) + " " +
                                            reply->body);
                }
            }
            // And random bytes after a valid prefix, bounded in size.
            test::HttpConnection noise(f.port);
            std::string bytes = (rng() % 2 ? "POST /hooks/stripe HTTP/1.1\r\n" : "GET /");
            for (std::size_t k = 0, n = rng() % 2000 + 1; k < n; ++k)
                bytes.push_back(static_cast<char>(rng() % 256));
            noise.send(bytes + "\r\n\r\n");
            if (auto r = noise.read_reply(8s); r && r->status >= 500) {
                ++server_errors;
                std::lock_guard lock(five_hundreds_mutex);
                five_hundreds.push_back("random bytes: " + std::to_string(r->status));
            }
        }
    };
    std::vector<std::thread> clients;
    for (std::size_t t = 0; t < 4; ++t) clients.emplace_back(abuse, t * 7 + 1);
    // Meanwhile a well-behaved client is answered, each time.
    int healthy = 0;
    for (int i = 0; i < 20; ++i) {
        auto r = test::http_request(f.port, "GET", "/healthz");
        if (r.status == 200) ++healthy;
    }
    for (auto& t : clients) t.join();
    CHECK(healthy == 20);
    for (const auto& e : five_hundreds) FAIL_CHECK(e);
    CHECK(server_errors == 0);
    CHECK(answered > 0);  // the server did answer the malformed requests it could parse
    REQUIRE(f.server->running());
    CHECK(f.get("/healthz").status == 200);
    CHECK(f.get("/readyz").status == 200);
    auto m = f.get("/metrics");
    CHECK(m.status == 200);
    CHECK(test::check_prometheus_text(m.body).empty());
    // The refusals were counted (400, 413 or 431 responses to requests never routed).
    CHECK(m.body.find("artistsaid_http_responses_total{route=\"refused\",code=\"400\"}") !=
          std::string::npos);
    CHECK(m.body.find("artistsaid_http_responses_total{route=\"refused\",code=\"431\"}") !=
          std::string::npos);
}

TEST_CASE("Serve.Robustness.AnswersEachRequestOfALongPipelineInOrder") {
    test::ServeFixture f;
    f.start();
    test::HttpConnection c(f.port);
    std::string pipeline;
    for (int i = 0; i < 100; ++i)
        pipeline += test::make_request("GET", i % 10 == 9 ? "/nowhere" : "/healthz");
    REQUIRE(c.send(pipeline));
    for (int i = 0; i < 100; ++i) {
        auto r = c.read_reply(20s);
        REQUIRE(r);
        CHECK(r->status == (i % 10 == 9 ? 404 : 200));
    }
    // A malformed request in the middle of a pipeline ends it with a 400 and a close.
    test::HttpConnection d(f.port);
    REQUIRE(d.send(test::make_request("GET", "/healthz") + "NOT HTTP AT ALL\r\n\r\n" +
                   test::make_request("GET", "/healthz")));
    auto first = d.read_reply(10s);
    REQUIRE(first);
    CHECK(first->status == 200);
    auto second = d.read_reply(10s);
    REQUIRE(second);
    CHECK(second->status == 400);
    CHECK(second->header("connection") == "close");
    CHECK(d.closed_by_peer(10s));
    CHECK(f.get("/healthz").status == 200);
}

TEST_CASE("Serve.Robustness.ABodyTrickledOneBytePerSecondIsCutOff") {
    test::ServeFixture f;
    f.start({{"ARTISTSAID_HTTP_READ_TIMEOUT", "2s"}});
    // The header arrives at once, then the body one byte per second: the read deadline
    // covers the whole request, so the client is cut off although it never stops sending.
    test::HttpConnection c(f.port);
    const std::string body(30, 'x');
    REQUIRE(c.send("POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 30\r\n\r\n"));
    bool cut = false;
    std::size_t sent = 0;
    for (; sent < body.size() && sent < 20; ++sent) {
        if (!c.send(body.substr(sent, 1)) || c.closed_by_peer(1s)) {
            cut = true;
            break;
        }
    }
    CHECK(cut);
    CHECK(sent < body.size());
    CHECK(f.get("/healthz").status == 200);
}

TEST_CASE("Serve.Robustness.GarbageAfterAWebSocketUpgradeClosesOnlyThatConnection") {
    test::ServeFixture f;
    f.start({{"ARTISTSAID_HTTP_READ_TIMEOUT", "3s"}, {"ARTISTSAID_HTTP_IDLE_TIMEOUT", "4s"}});
    auto key = f.create_key("readonly").second;
    for (int round = 0; round < 4; ++round) {
        CAPTURE(round);
        test::HttpConnection ws(f.port);
        REQUIRE(
            ws.send("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: "
                    "Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer " +
                    key + "\r\n\r\n"));
        auto head = read_head(ws.fd(), 10s);
        INFO(head);
        REQUIRE(head.rfind("HTTP/1.1 101", 0) == 0);
        // Not WebSocket frames: an unmasked client frame, a reserved opcode, an absurd length
        // (with its mask key), and half a frame header after which the client says nothing
        // (it answers no ping either: cut off after http.idle_timeout).
        const std::string frames[] = {
            std::string("\x81\x05hello", 7), std::string("\x8f\x80\x00\x00\x00\x00", 6),
            std::string("\x82\xff\x7f\xff\xff\xff\xff\xff\xff\xff\x01\x02\x03\x04", 14),
            std::string("\x82\xfe", 2)};
        ws.send(frames[round]);
        CHECK(ws.closed_by_peer(20s));
    }
    CHECK(f.get("/healthz").status == 200);
    CHECK(f.server->running());
}

TEST_CASE("Serve.Robustness.DeeplyNestedJsonIsRefusedNotACrash") {
    // Found by this test: copying or dumping such a value recursed once per level and
    // overflowed the stack (a segfault of the whole server). Bodies nesting deeper than
    // 64 levels are now refused before they are parsed.
    test::ServeFixture f;
    const std::string secret = "deep_secret";
    f.start({{"ARTISTSAID_SECRET_WEBHOOK_SECRET_PARTNER", secret}});
    auto key = f.create_key("operator").second;
    // 400,000 bytes of nested arrays: within the body limit, far beyond any sane event.
    std::string bomb = "{\"name\":\"x\",\"key\":\"k\",\"data\":" + std::string(200000, '[') +
                       std::string(200000, ']') + "}";
    auto r = f.post("/api/v1/events", bomb, key);
    INFO(r.body.substr(0, 300));
    CHECK(r.status == 400);
    CHECK(json::parse(r.body)["error"]["code"] == "invalid_input");
    auto unbalanced = f.post("/api/v1/events", std::string(500000, '['), key);
    CHECK(unbalanced.status == 400);
    auto deep_inputs = f.post(
        "/api/v1/workflows/none/runs",
        "{\"inputs\":{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}}", key);
    CHECK(deep_inputs.status == 400);
    // A correctly signed webhook is refused the same way (a partner's bug, or its leaked
    // secret, must not take the server down either).
    const std::string event =
        "{\"id\":\"deep-1\",\"type\":\"x\",\"data\":" + std::string(100000, '[') +
        std::string(100000, ']') + "}";
    const auto now = std::to_string(test::unix_now());
    auto hook =
        test::http_request(f.port, "POST", "/hooks/generic/partner",
                           {{"X-Webhook-Timestamp", now},
                            {"X-Webhook-Signature",
                             "sha256=" + test::openssl_hmac("sha256", secret, now + "." + event)}},
                           event);
    CHECK(hook.status == 400);
    CHECK(json::parse(hook.body)["error"]["code"] == "invalid_payload");
    CHECK(f.scalar("SELECT count(*) FROM webhook_events") == 0);
    CHECK(f.server->running());
    CHECK(f.get("/healthz").status == 200);
    CHECK(f.scalar("SELECT count(*) FROM workflow_events") == 0);
}
