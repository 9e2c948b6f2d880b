// The REST API and /ws over real HTTP: each role's allowed and forbidden routes, revoked
// keys, the per-key rate limit (429 + Retry-After), runs and events end to end, JSON errors
// with stable codes, and live updates over a WebSocket filtered by workflow.
#include <doctest/doctest.h>
#include <sys/socket.h>

#include <algorithm>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "tests/integration/http/serve_fixture.hpp"

using namespace artistsaid;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const char* const kHello =
    "name: hello\nversion: 1\ninputs:\n  who: { type: string, default: world }\nsteps:\n"
    "  - id: first\n    uses: noop\n"  // a job: without a worker the run stays running
    "  - id: hi\n    needs: [first]\n    uses: log\n"
    "    with: { message: \"hello ${{ inputs.who }}\" }\n";
const char* const kOther =
    "name: other\nversion: 1\nsteps:\n  - id: hi\n    uses: noop\n";

struct ApiFixture : test::ServeFixture {
    explicit ApiFixture(const std::map<std::string, std::string>& extra = {
                            {"ARTISTSAID_HTTP_RATE_LIMIT", "1000"}, {"ARTISTSAID_HTTP_RATE_BURST", "1000"}}) {
        workflow("hello", kHello);
        workflow("other", kOther);
        start(extra);
    }
    test::HttpReply call(const std::string& method, const std::string& target, const std::string& key,
                         const std::string& body = {}) const {
        std::vector<std::pair<std::string, std::string>> h;
        if (!key.empty()) h.emplace_back("Authorization", "Bearer " + key);
        if (!body.empty()) h.emplace_back("Content-Type", "application/json");
        return test::http_request(port, method, target, h, body);
    }
    std::string start_run(const std::string& key, const std::string& workflow = "hello") const {
        auto r = call("POST", "/api/v1/workflows/" + workflow + "/runs", key, R"({"inputs":{}})");
        INFO(r.body);
        REQUIRE(r.status == 201);
        return json::parse(r.body)["run"];
    }
};

std::string code_of(const test::HttpReply& r) {
    auto j = json::parse(r.body, nullptr, false);
    return j.is_object() && j.contains("error") ? j["error"]["code"].get<std::string>() : "";
}

}  // namespace

TEST_CASE("Api.Roles.EachRoleReachesItsRoutesAndNoOthers") {
    ApiFixture f;
    auto admin = f.create_key("admin").second;
    auto op = f.create_key("operator").second;
    auto ro = f.create_key("readonly").second;
    const std::string run = f.start_run(admin);
    struct RouteCase {
        std::string method, target, body;
        int least;  // 0 readonly, 1 operator, 2 admin
    };
    const std::vector<RouteCase> routes = {
        {"GET", "/api/v1/workflows", "", 0},
        {"GET", "/api/v1/workflows/hello", "", 0},
        {"GET", "/api/v1/runs", "", 0},
        {"GET", "/api/v1/runs/" + run, "", 0},
        {"GET", "/api/v1/queues", "", 0},
        {"POST", "/api/v1/workflows/hello/runs", R"({"inputs":{"who":"ann"}})", 1},
        {"POST", "/api/v1/events", R"({"name":"x.happened","key":"k1","data":{"a":1}})", 1},
        {"POST", "/api/v1/runs/" + run + "/cancel", "", 1},
        {"POST", "/api/v1/runs/" + run + "/retry", "", 1},
        {"GET", "/api/v1/apikeys", "", 2},
        {"POST", "/api/v1/apikeys", R"({"role":"readonly","name":"made by api"})", 2},
        {"DELETE", "/api/v1/apikeys/999999", "", 2},
    };
    const std::vector<std::pair<std::string, int>> keys = {{ro, 0}, {op, 1}, {admin, 2}};
    for (const auto& route : routes) {
        for (const auto& [key, level] : keys) {
            auto r = f.call(route.method, route.target, key, route.body);
            INFO(route.method << " " << route.target << " as level " << level << ": " << r.status
                              << " " << r.body);
            if (level >= route.least) {
                CHECK(r.status != 403);
                CHECK(r.status != 401);
                CHECK(r.status < 500);
            } else {
                CHECK(r.status == 403);
                CHECK(code_of(r) == "forbidden");
            }
        }
    }
    // The forbidden calls changed nothing: one run from the setup + one per allowed start.
    CHECK(f.scalar("SELECT count(*) FROM workflow_runs") == 1 + 2);
    CHECK(f.scalar("SELECT count(*) FROM audit_log WHERE action = 'run.start'") == 3);
}

TEST_CASE("Api.Auth.MissingUnknownAndRevokedKeysAreRefused") {
    ApiFixture f;
    auto none = f.call("GET", "/api/v1/workflows", "");
    CHECK(none.status == 401);
    CHECK(code_of(none) == "unauthenticated");
    CHECK(none.header("www-authenticate").find("Bearer") == 0);
    CHECK(code_of(f.call("GET", "/api/v1/workflows", "aa_0000000000000000")) == "invalid_api_key");
    auto [id, key] = f.create_key("readonly");
    CHECK(f.call("GET", "/api/v1/workflows", key).status == 200);
    // Stored only as the SHA-256 of the key.
    {
        pqxx::connection c(f.db.url());
        pqxx::read_transaction tx(c);
        CHECK(tx.exec_params1("SELECT count(*) FROM api_keys WHERE key_hash = sha256($1::bytea)", key)[0]
                  .as<int>() == 1);
        CHECK(tx.exec_params1("SELECT count(*) FROM api_keys WHERE name LIKE '%' || $1 || '%' OR "
                              "prefix = $1",
                              key)[0]
                  .as<int>() == 0);
    }
    auto list = test::run_cli({"apikeys", "list"}, f.cli_options());
    CHECK(list.exit_code == 0);
    CHECK(list.out.find(key) == std::string::npos);
    CHECK(list.out.find(key.substr(0, 11)) != std::string::npos);
    auto revoked = test::run_cli({"apikeys", "revoke", std::to_string(id)}, f.cli_options());
    CHECK(revoked.exit_code == 0);
    auto after = f.call("GET", "/api/v1/workflows", key);
    CHECK(after.status == 401);
    CHECK(code_of(after) == "invalid_api_key");
    CHECK(test::run_cli({"apikeys", "revoke", std::to_string(id)}, f.cli_options()).exit_code == 2);
    CHECK(test::run_cli({"apikeys", "create", "--role", "root"}, f.cli_options()).exit_code == 2);
    CHECK(test::run_cli({"apikeys", "create"}, f.cli_options()).exit_code == 2);
}

TEST_CASE("Api.RateLimit.TooManyRequestsGet429WithRetryAfter") {
    ApiFixture f({{"ARTISTSAID_HTTP_RATE_LIMIT", "1"}, {"ARTISTSAID_HTTP_RATE_BURST", "3"}});
    auto a = f.create_key("readonly").second;
    auto b = f.create_key("readonly").second;
    int ok = 0;
    test::HttpReply limited;
    for (int i = 0; i < 10 && limited.status == 0; ++i) {
        auto r = f.call("GET", "/api/v1/workflows", a);
        if (r.status == 200) ++ok;
        else if (r.status == 429) limited = r;
    }
    CHECK(ok >= 3);
    REQUIRE(limited.status == 429);
    CHECK(code_of(limited) == "rate_limited");
    auto retry_after = limited.header("retry-after");
    REQUIRE(!retry_after.empty());
    CHECK(std::stoi(retry_after) >= 1);
    // Another key has its own bucket.
    CHECK(f.call("GET", "/api/v1/workflows", b).status == 200);
}

TEST_CASE("Api.Runs.StartShowListCancelRetryAndEvents") {
    ApiFixture f;
    auto key = f.create_key("operator").second;
    auto started = f.call("POST", "/api/v1/workflows/hello/runs", key, R"({"inputs":{"who":"bea"}})");
    REQUIRE(started.status == 201);
    const std::string run = json::parse(started.body)["run"];
    auto shown = f.call("GET", "/api/v1/runs/" + run, key);
    REQUIRE(shown.status == 200);
    auto j = json::parse(shown.body);
    CHECK(j["workflow"] == "hello");
    CHECK(j["inputs"]["who"] == "bea");
    CHECK(j["trigger"] == "api");
    CHECK(j["steps"].size() == 2);  // first (noop), hi (log)
    auto listed = json::parse(f.call("GET", "/api/v1/runs?workflow=hello&limit=10", key).body);
    CHECK(listed["runs"].size() == 1);
    CHECK(json::parse(f.call("GET", "/api/v1/runs?workflow=other", key).body)["runs"].empty());
    CHECK(f.call("POST", "/api/v1/runs/" + run + "/cancel", key).status == 202);
    auto again = f.call("POST", "/api/v1/runs/" + run + "/cancel", key);
    CHECK(again.status == 409);
    // A cancelled run may be retried; a running one may not.
    CHECK(f.call("POST", "/api/v1/runs/" + run + "/retry", key).status == 202);
    CHECK(json::parse(f.call("GET", "/api/v1/runs/" + run, key).body)["status"] == "running");
    auto retry = f.call("POST", "/api/v1/runs/" + run + "/retry", key);
    CHECK(retry.status == 400);
    CHECK(code_of(retry) == "invalid_input");
    // Idempotent start with a dedupe key.
    auto d1 = f.call("POST", "/api/v1/workflows/hello/runs", key, R"({"dedupe_key":"order-1"})");
    auto d2 = f.call("POST", "/api/v1/workflows/hello/runs", key, R"({"dedupe_key":"order-1"})");
    CHECK(d1.status == 201);
    CHECK(d2.status == 200);
    CHECK(json::parse(d1.body)["run"] == json::parse(d2.body)["run"]);
    // Errors: JSON with stable codes, nothing created.
    auto before = f.scalar("SELECT count(*) FROM workflow_runs");
    CHECK(code_of(f.call("POST", "/api/v1/workflows/nope/runs", key, "{}")) == "not_found");
    CHECK(code_of(f.call("POST", "/api/v1/workflows/hello/runs", key, "{not json")) == "invalid_input");
    CHECK(code_of(f.call("POST", "/api/v1/workflows/hello/runs", key, R"({"inputs":{"nope":1}})")) == "invalid_input");
    CHECK(code_of(f.call("GET", "/api/v1/runs/not-a-uuid", key)) == "invalid_input");
    CHECK(code_of(f.call("GET", "/api/v1/runs/01890000-0000-7000-8000-000000000000", key)) == "not_found");
    CHECK(f.call("DELETE", "/api/v1/runs", key).status == 405);
    CHECK(f.call("GET", "/api/v1/nothing", key).status == 404);
    CHECK(f.scalar("SELECT count(*) FROM workflow_runs") == before);
    // Events.
    auto ev = f.call("POST", "/api/v1/events", key, R"({"name":"order.paid","key":"o-1","data":{"x":1}})");
    CHECK(ev.status == 201);
    CHECK(json::parse(ev.body)["resumed"] == 0);
    CHECK(f.scalar("SELECT count(*) FROM workflow_events") == 1);
    CHECK(code_of(f.call("POST", "/api/v1/events", key, R"({"name":"x"})")) == "invalid_input");
    // Queue stats.
    auto queues = json::parse(f.call("GET", "/api/v1/queues", key).body)["queues"];
    REQUIRE(queues.size() >= 1);
    CHECK(queues[0]["queue"] == "workflows");
}

TEST_CASE("Api.WebSocket.LiveUpdatesFilteredByWorkflow") {
    ApiFixture f;
    auto key = f.create_key("readonly").second;
    auto op = f.create_key("operator").second;
    // Without a key: refused before the upgrade.
    auto refused = test::http_request(f.port, "GET", "/ws",
                                      {{"Upgrade", "websocket"}, {"Connection", "Upgrade"},
                                       {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                                       {"Sec-WebSocket-Version", "13"}});
    CHECK(refused.status == 401);

    namespace net = boost::asio;
    namespace beast = boost::beast;
    net::io_context io;
    net::ip::tcp::socket socket(io);
    socket.connect({net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(f.port)});
    struct timeval tv{20, 0};  // every read of this test has a deadline
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    beast::websocket::stream<net::ip::tcp::socket> ws(std::move(socket));
    ws.set_option(beast::websocket::stream_base::decorator([&](beast::websocket::request_type& req) {
        req.set(beast::http::field::authorization, "Bearer " + key);
    }));
    ws.handshake("127.0.0.1", "/ws?workflow=hello");
    beast::flat_buffer buffer;
    ws.read(buffer);
    auto hello = json::parse(beast::buffers_to_string(buffer.data()));
    buffer.consume(buffer.size());
    CHECK(hello["kind"] == "subscribed");
    CHECK(hello["workflow"] == "hello");
    // Wait until the server's subscription to the run channel is live.
    auto redis = test::redis_connection();
    REQUIRE(test::eventually([&] {
        auto r = redis.command({"PUBSUB", "NUMSUB", f.guard.prefix() + ":runs"});
        return r.view().size() == 2 && r.view()[1].integer() >= 1;
    }, 20s));
    f.start_run(op, "other");  // filtered out
    const std::string run = f.start_run(op, "hello");
    ws.read(buffer);
    auto update = json::parse(beast::buffers_to_string(buffer.data()));
    buffer.consume(buffer.size());
    INFO(update.dump());
    CHECK(update["run"] == run);
    CHECK(update["workflow"] == "hello");
    CHECK(update["kind"] == "run.started");
    ws.close(beast::websocket::close_code::normal);

    // Filtered by run: only that run's updates arrive.
    net::ip::tcp::socket socket2(io);
    socket2.connect({net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(f.port)});
    ::setsockopt(socket2.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    beast::websocket::stream<net::ip::tcp::socket> by_run(std::move(socket2));
    by_run.set_option(beast::websocket::stream_base::decorator([&](beast::websocket::request_type& req) {
        req.set(beast::http::field::authorization, "Bearer " + key);
    }));
    by_run.handshake("127.0.0.1", "/ws?run=" + run);
    by_run.read(buffer);
    CHECK(json::parse(beast::buffers_to_string(buffer.data()))["run"] == run);
    buffer.consume(buffer.size());
    f.start_run(op, "hello");  // another run of the same workflow: filtered out
    auto cancelled = f.call("POST", "/api/v1/runs/" + run + "/cancel", op);
    REQUIRE(cancelled.status == 202);
    by_run.read(buffer);
    auto cancelling = json::parse(beast::buffers_to_string(buffer.data()));
    buffer.consume(buffer.size());
    CHECK(cancelling["run"] == run);
    CHECK(cancelling["kind"] == "run.cancelling");
    // Nothing of it was running: the cancel ended the run, which is announced once.
    by_run.read(buffer);
    auto ended = json::parse(beast::buffers_to_string(buffer.data()));
    buffer.consume(buffer.size());
    CHECK(ended["run"] == run);
    CHECK(ended["kind"] == "run.cancelled");
    CHECK(ended["workflow"] == "hello");
    by_run.close(beast::websocket::close_code::normal);

    // A browser offers the key as a subprotocol (it cannot set Authorization).
    auto offer = [&](const std::string& secret) {
        net::ip::tcp::socket s(io);
        s.connect({net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(f.port)});
        ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        beast::websocket::stream<net::ip::tcp::socket> browser(std::move(s));
        browser.set_option(beast::websocket::stream_base::decorator(
            [&](beast::websocket::request_type& req) {
                req.set(beast::http::field::sec_websocket_protocol, "artistsaid.bearer." + secret);
            }));
        beast::websocket::response_type res;
        beast::error_code ec;
        browser.handshake(res, "127.0.0.1", "/ws", ec);
        if (ec) return std::string("refused");
        std::string echoed(res[beast::http::field::sec_websocket_protocol]);
        browser.close(beast::websocket::close_code::normal);
        return echoed;
    };
    CHECK(offer(key) == "artistsaid.bearer." + key);
    CHECK(offer("aa_wrong0000000000") == "refused");
}

TEST_CASE("Api.WebSocket.StepUpdatesAndTheRunsEndArriveWhileAWorkerRunsIt") {
    ApiFixture f;
    auto key = f.create_key("readonly").second;
    auto op = f.create_key("operator").second;
    const std::string run = f.start_run(op, "hello");  // no worker yet: `first` waits
    const std::string other = f.start_run(op, "hello");  // same workflow, filtered out

    namespace net = boost::asio;
    namespace beast = boost::beast;
    net::io_context io;
    net::ip::tcp::socket socket(io);
    socket.connect({net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(f.port)});
    struct timeval tv{30, 0};  // every read of this test has a deadline
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    beast::websocket::stream<net::ip::tcp::socket> ws(std::move(socket));
    ws.set_option(beast::websocket::stream_base::decorator([&](beast::websocket::request_type& req) {
        req.set(beast::http::field::authorization, "Bearer " + key);
    }));
    ws.handshake("127.0.0.1", "/ws?run=" + run);
    beast::flat_buffer buffer;
    ws.read(buffer);
    buffer.consume(buffer.size());  // {"kind": "subscribed"}
    auto redis = test::redis_connection();
    REQUIRE(test::eventually([&] {
        auto r = redis.command({"PUBSUB", "NUMSUB", f.guard.prefix() + ":runs"});
        return r.view().size() == 2 && r.view()[1].integer() >= 1;
    }, 20s));

    test::ChildProcess worker(test::cli_binary(), {"worker", "--concurrency", "2"}, f.env);
    std::vector<std::string> kinds;
    for (int i = 0; i < 20 && (kinds.empty() || kinds.back() != "run.succeeded"); ++i) {
        ws.read(buffer);
        auto update = json::parse(beast::buffers_to_string(buffer.data()));
        buffer.consume(buffer.size());
        INFO(update.dump());
        CHECK(update["run"] == run);
        CHECK(update["workflow"] == "hello");
        std::string kind = update["kind"];
        if (update.contains("step")) kind += " " + update["step"].get<std::string>();
        kinds.push_back(kind);
    }
    INFO([&] {
        std::string all;
        for (const auto& k : kinds) all += k + "; ";
        return all;
    }());
    auto at = [&](const std::string& k) {
        return std::find(kinds.begin(), kinds.end(), k) - kinds.begin();
    };
    const auto n = static_cast<std::ptrdiff_t>(kinds.size());
    REQUIRE(at("step.started first") < n);
    REQUIRE(at("step.succeeded first") < n);
    REQUIRE(at("step.succeeded hi") < n);
    CHECK(at("step.started first") < at("step.succeeded first"));
    CHECK(at("step.succeeded first") < at("step.succeeded hi"));
    CHECK(kinds.back() == "run.succeeded");
    CHECK(std::count(kinds.begin(), kinds.end(), "run.succeeded") == 1);
    ws.close(beast::websocket::close_code::normal);
    CHECK(test::eventually([&] {
        return f.scalar("SELECT count(*) FROM workflow_runs WHERE status = 'succeeded' AND id = '" +
                        other + "'") == 1;
    }, 60s));
}
