// `artistsaid serve` over real HTTP on 127.0.0.1: health, keep-alive, every limit (body,
// header, slow and idle clients, connections), malformed input, graceful SIGTERM, and
// /metrics checked by a strict Prometheus text parser.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "tests/integration/http/prometheus_text_checker.hpp"
#include "tests/integration/http/serve_fixture.hpp"

using namespace artistsaid;
using namespace std::chrono_literals;
using nlohmann::json;

TEST_CASE("Serve.Health.HealthzAndReadyzAnswer") {
    test::ServeFixture f;
    f.start();
    auto h = f.get("/healthz");
    CHECK(h.status == 200);
    CHECK(json::parse(h.body)["status"] == "ok");
    auto r = f.get("/readyz");
    INFO(r.body);
    CHECK(r.status == 200);
    CHECK(json::parse(r.body)["postgresql"] == "ok");
    CHECK(json::parse(r.body)["redis"] == "ok");
    CHECK(f.get("/nowhere").status == 404);
    CHECK(json::parse(f.get("/nowhere").body)["error"]["code"] == "not_found");
}

TEST_CASE("Serve.Health.ReadyzReportsADependencyDown") {
    test::ServeFixture f;
    // A Redis that is not there: nothing listens on port 1.
    f.start({{"ARTISTSAID_REDIS_URL", "redis://127.0.0.1:1/0"},
             {"ARTISTSAID_CONNECT_TIMEOUT", "1s"}});
    CHECK(f.get("/healthz").status == 200);
    auto r = f.get("/readyz");
    CHECK(r.status == 503);
    CHECK(json::parse(r.body)["redis"] == "unavailable");
    CHECK(json::parse(r.body)["postgresql"] == "ok");
}

TEST_CASE("Serve.Health.ReadyzAndMetricsWithPostgresqlDown") {
    test::ServeFixture f;
    f.start({{"ARTISTSAID_DATABASE_URL", "postgresql://postgres@127.0.0.1:1/nowhere"},
             {"ARTISTSAID_CONNECT_TIMEOUT", "1s"}});
    CHECK(f.get("/healthz").status == 200);
    auto r = f.get("/readyz");
    CHECK(r.status == 503);
    CHECK(json::parse(r.body)["postgresql"] == "unavailable");
    CHECK(json::parse(r.body)["redis"] == "ok");
    // /metrics still answers, says so, and still parses.
    auto m = f.get("/metrics");
    CHECK(m.status == 200);
    std::vector<test::PrometheusSample> samples;
    for (const auto& p : test::check_prometheus_text(m.body, &samples)) FAIL_CHECK(p);
    CHECK(m.body.find("artistsaid_dependency_up{dependency=\"postgresql\"} 0\n") !=
          std::string::npos);
    CHECK(m.body.find("artistsaid_dependency_up{dependency=\"redis\"} 1\n") != std::string::npos);
    // The API cannot check keys: 503 with a stable code, not a hang or a crash.
    auto api = f.get("/api/v1/workflows", "aa_whatever");
    CHECK(api.status == 503);
    CHECK(json::parse(api.body)["error"]["code"] == "unavailable");
}

TEST_CASE("Serve.KeepAlive.SeveralRequestsOnOneConnection") {
    test::ServeFixture f;
    f.start();
    test::HttpConnection c(f.port);
    for (int i = 0; i < 3; ++i) {
        REQUIRE(c.send(test::make_request("GET", i == 1 ? "/readyz" : "/healthz")));
        auto reply = c.read_reply(10s);
        REQUIRE(reply);
        CHECK(reply->status == 200);
        CHECK(reply->header("connection") != "close");
    }
    // Pipelined: two requests in one write, two responses in order.
    REQUIRE(c.send(test::make_request("GET", "/healthz") + test::make_request("GET", "/nowhere")));
    auto a = c.read_reply(10s), b = c.read_reply(10s);
    REQUIRE(a);
    REQUIRE(b);
    CHECK(a->status == 200);
    CHECK(b->status == 404);
}

TEST_CASE("Serve.Limits.OversizedBodyGets413") {
    test::ServeFixture f;
    SUBCASE("default limit of 1 MiB") {
        f.start();
        std::string body(1024 * 1024 + 1, 'x');
        auto r = test::http_request(f.port, "POST", "/api/v1/events", {}, body);
        CHECK(r.status == 413);
        CHECK(json::parse(r.body)["error"]["code"] == "body_too_large");
        // Exactly the limit passes the size check (and is refused for what it is: no key).
        auto ok = test::http_request(f.port, "POST", "/api/v1/events", {},
                                     std::string(1024 * 1024, 'x'));
        CHECK(ok.status == 401);
    }
    SUBCASE("configured limit, chunked body") {
        f.start({{"ARTISTSAID_HTTP_MAX_BODY_BYTES", "1000"}});
        test::HttpConnection c(f.port);
        std::string chunk(600, 'y');
        std::string req = "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
        req += "258\r\n" + chunk + "\r\n258\r\n" + chunk + "\r\n0\r\n\r\n";
        c.send(req);
        auto reply = c.read_reply(10s);
        REQUIRE(reply);
        CHECK(reply->status == 413);
    }
    CHECK(f.get("/healthz").status == 200);
}

TEST_CASE("Serve.Limits.OversizedHeaderGets431") {
    test::ServeFixture f;
    f.start({{"ARTISTSAID_HTTP_MAX_HEADER_BYTES", "4096"}});
    auto r = test::http_request(f.port, "GET", "/healthz", {{"X-Padding", std::string(8000, 'p')}});
    CHECK(r.status == 431);
    CHECK(f.get("/healthz").status == 200);
}

TEST_CASE("Serve.Limits.MalformedHttpNeverCrashesTheServer") {
    test::ServeFixture f;
    f.start();
    const std::vector<std::string> garbage = {
        "GARBAGE\r\n\r\n",
        "GET / HTTP/9.9\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
        "POST /api/v1/events HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n",
        "GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n",
        std::string("\0\1\2\3\xff\xfe\r\n\r\n", 10),
        "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    };
    for (const auto& g : garbage) {
        test::HttpConnection c(f.port);
        c.send(g);
        auto reply = c.read_reply(10s);
        if (reply) {
            INFO("request: " << g);
            CHECK(reply->status >= 400);
            CHECK(reply->status < 500);
        }
    }
    // Random bytes, bounded in count.
    std::mt19937 rng(42);
    for (int i = 0; i < 50; ++i) {
        std::string bytes(static_cast<std::size_t>(rng() % 300 + 1), '\0');
        for (auto& ch : bytes) ch = static_cast<char>(rng() % 256);
        if (i % 2 == 0) bytes = "GET /" + bytes;
        test::HttpConnection c(f.port);
        c.send(bytes + "\r\n\r\n");
        c.read_reply(5s);
    }
    CHECK(f.server->running());
    CHECK(f.get("/healthz").status == 200);
}

TEST_CASE("Serve.Limits.SlowClientIsCutOff") {
    test::ServeFixture f;
    f.start({{"ARTISTSAID_HTTP_READ_TIMEOUT", "2s"}, {"ARTISTSAID_HTTP_IDLE_TIMEOUT", "2s"}});
    // One byte per second of a request that would take 60 s to send.
    const std::string request = test::make_request("GET", "/healthz", {{"X-Slow", std::string(30, 's')}});
    REQUIRE(request.size() > 40);
    test::HttpConnection c(f.port);
    std::size_t sent = 0;
    bool cut = false;
    for (; sent < request.size() && sent < 20; ++sent) {
        if (!c.send(request.substr(sent, 1))) {
            cut = true;
            break;
        }
        if (c.closed_by_peer(1s)) {
            cut = true;
            break;
        }
    }
    CHECK(cut);
    CHECK(sent < request.size());
    // An idle connection (no byte at all) is closed too.
    test::HttpConnection idle(f.port);
    CHECK(idle.closed_by_peer(20s));
    CHECK(f.get("/healthz").status == 200);
}

TEST_CASE("Serve.Limits.ConnectionsBeyondTheMaximumGet503") {
    test::ServeFixture f;
    f.start({{"ARTISTSAID_HTTP_MAX_CONNECTIONS", "2"}});
    test::HttpConnection a(f.port), b(f.port);
    for (auto* c : {&a, &b}) {
        REQUIRE(c->send(test::make_request("GET", "/healthz")));
        auto r = c->read_reply(10s);
        REQUIRE(r);
        CHECK(r->status == 200);
    }
    test::HttpConnection third(f.port);
    third.send(test::make_request("GET", "/healthz"));
    auto r = third.read_reply(10s);
    REQUIRE(r);
    CHECK(r->status == 503);
    CHECK(json::parse(r->body)["error"]["code"] == "too_many_connections");
}

TEST_CASE("Serve.Shutdown.SigtermFinishesAndExitsZero") {
    test::ServeFixture f;
    f.start();
    test::HttpConnection idle(f.port);  // an idle keep-alive connection must not hold it up
    REQUIRE(idle.send(test::make_request("GET", "/healthz")));
    REQUIRE(idle.read_reply(10s));
    f.server->signal(SIGTERM);
    auto code = f.server->wait(30s);
    INFO(f.server->output());
    REQUIRE(code);
    CHECK(*code == 0);
    CHECK(f.server->output().find("stopped") != std::string::npos);
    CHECK(idle.closed_by_peer(5s));
}

TEST_CASE("Serve.Metrics.ParseAsStrictPrometheusText") {
    test::ServeFixture f;
    // noop is a queue job (log would run inline and finish the run at once).
    f.workflow("hello", "name: hello\nversion: 1\nsteps:\n  - id: hi\n    uses: noop\n");
    f.start();
    auto [id, key] = f.create_key("operator");
    auto started = f.post("/api/v1/workflows/hello/runs", R"({"inputs": {}})", key);
    INFO(started.body);
    REQUIRE(started.status == 201);
    f.post("/hooks/stripe", "{}");  // a 404 counted in the responses
    auto m = f.get("/metrics");
    REQUIRE(m.status == 200);
    CHECK(m.header("content-type").find("text/plain; version=0.0.4") == 0);
    std::vector<test::PrometheusSample> samples;
    auto problems = test::check_prometheus_text(m.body, &samples);
    for (const auto& p : problems) FAIL_CHECK(p);
    auto value = [&](const std::string& name, const std::map<std::string, std::string>& labels) {
        for (const auto& s : samples) {
            if (s.name != name) continue;
            bool match = true;
            for (const auto& [k, v] : labels) match = match && s.labels.count(k) && s.labels.at(k) == v;
            if (match) return s.value;
        }
        return -1.0;
    };
    CHECK(value("artistsaid_up", {}) == 1);
    CHECK(value("artistsaid_dependency_up", {{"dependency", "postgresql"}}) == 1);
    CHECK(value("artistsaid_dependency_up", {{"dependency", "redis"}}) == 1);
    CHECK(value("artistsaid_runs", {{"workflow", "hello"}, {"status", "running"}}) == 1);
    CHECK(value("artistsaid_queue_jobs", {{"queue", "workflows"}, {"state", "ready"}}) == 1);
    CHECK(value("artistsaid_queue_jobs_enqueued_total", {{"queue", "workflows"}}) == 1);
    CHECK(value("artistsaid_http_responses_total", {{"route", "api"}, {"code", "201"}}) == 1);
    CHECK(value("artistsaid_webhook_requests_total", {{"provider", "unknown"}, {"outcome", "unknown_provider"}}) == 1);
    CHECK(value("artistsaid_step_duration_seconds_count", {}) >= 0);

    // The checker itself refuses what is wrong.
    CHECK(!test::check_prometheus_text("x 1\n").empty());  // no TYPE
    CHECK(!test::check_prometheus_text("# TYPE x gauge\nx{a=\"1} 1\n").empty());
    CHECK(!test::check_prometheus_text("# TYPE x gauge\nx 1\nx 2\n").empty());
    CHECK(!test::check_prometheus_text("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n").empty());
    CHECK(!test::check_prometheus_text("# TYPE x gauge\nx one\n").empty());
    CHECK(test::check_prometheus_text("# HELP x y\n# TYPE x gauge\nx{a=\"q\\\"\"} 1.5\n").empty());
    // Histograms are checked per series (labels other than le); a family may be empty.
    const std::string two_series =
        "# TYPE h histogram\nh_bucket{q=\"a\",le=\"1\"} 1\nh_bucket{q=\"a\",le=\"+Inf\"} 2\n"
        "h_sum{q=\"a\"} 3\nh_count{q=\"a\"} 2\nh_bucket{q=\"b\",le=\"1\"} 0\n"
        "h_bucket{q=\"b\",le=\"+Inf\"} 0\nh_sum{q=\"b\"} 0\nh_count{q=\"b\"} 0\n";
    CHECK(test::check_prometheus_text(two_series).empty());
    CHECK(test::check_prometheus_text("# HELP h nothing yet\n# TYPE h histogram\n").empty());
    std::string wrong_count = two_series;
    wrong_count.replace(wrong_count.find("h_count{q=\"b\"} 0"), 16, "h_count{q=\"b\"} 5");
    CHECK(!test::check_prometheus_text(wrong_count).empty());
    CHECK(!test::check_prometheus_text("# TYPE h histogram\nh_bucket{q=\"a\",le=\"1\"} 1\n"
                                       "h_sum{q=\"a\"} 1\nh_count{q=\"a\"} 1\n")
               .empty());  // no +Inf bucket
    CHECK(!test::check_prometheus_text("# TYPE h histogram\nh_bucket{q=\"a\",le=\"+Inf\"} 1\n"
                                       "h_count{q=\"a\"} 1\n")
               .empty());  // no _sum
}

TEST_CASE("Serve.Metrics.JobDurationHistogramsFromTheWorkers") {
    test::ServeFixture f;
    f.workflow("hello", "name: hello\nversion: 1\nsteps:\n  - id: a\n    uses: noop\n"
                        "  - id: b\n    needs: [a]\n    uses: noop\n");
    f.start();
    auto key = f.create_key("operator").second;
    for (int i = 0; i < 2; ++i)
        REQUIRE(f.post("/api/v1/workflows/hello/runs", R"({"inputs": {}})", key).status == 201);
    test::ChildProcess worker(test::cli_binary(), {"worker", "--concurrency", "2"}, f.env);
    REQUIRE(test::eventually([&] {
        return f.scalar("SELECT count(*) FROM workflow_runs WHERE status = 'succeeded'") == 2;
    }, 60s));
    auto m = f.get("/metrics");
    std::vector<test::PrometheusSample> samples;
    for (const auto& p : test::check_prometheus_text(m.body, &samples)) FAIL_CHECK(p);
    auto value = [&](const std::string& name, const std::map<std::string, std::string>& labels) {
        for (const auto& s : samples) {
            if (s.name != name || s.labels != labels) continue;
            return s.value;
        }
        return -1.0;
    };
    const std::map<std::string, std::string> processed = {{"queue", "workflows"},
                                                           {"outcome", "processed"}};
    // Two runs of two noop steps: four step jobs ran and were acknowledged.
    CHECK(value("artistsaid_job_duration_seconds_count", processed) == 4);
    auto inf = processed;
    inf["le"] = "+Inf";
    CHECK(value("artistsaid_job_duration_seconds_bucket", inf) == 4);
    auto ten_minutes_bucket = processed;
    ten_minutes_bucket["le"] = "300";
    CHECK(value("artistsaid_job_duration_seconds_bucket", ten_minutes_bucket) == 4);
    CHECK(value("artistsaid_job_duration_seconds_sum", processed) >= 0);
    CHECK(value("artistsaid_job_duration_seconds_count",
                {{"queue", "workflows"}, {"outcome", "failed"}}) == 0);
    CHECK(value("artistsaid_queue_jobs_processed_total", {{"queue", "workflows"}}) == 4);
    CHECK(value("artistsaid_runs", {{"workflow", "hello"}, {"status", "succeeded"}}) == 2);
    CHECK(value("artistsaid_step_duration_seconds_count", {}) == 4);

    // The same text through an independent parser (Prometheus's Python client): every
    // sample the strict checker saw, with the same labels and value, and no other.
    auto file = test::fs::temp_directory_path() / test::unique_name("aa_metrics");
    std::ofstream(file, std::ios::binary) << m.body;
    auto parsed = test::shell("/usr/bin/python3 " + test::source_dir() +
                              "/tests/integration/http/prometheus_parse.py " + file.string());
    test::fs::remove(file);
    std::size_t lines = 0;
    std::istringstream in(parsed);
    for (std::string line; std::getline(in, line); ++lines) {
        auto sample = json::parse(line);
        std::map<std::string, std::string> labels = sample["labels"];
        double v = sample["value"].is_string() ? INFINITY : sample["value"].get<double>();
        INFO(line);
        CHECK(value(sample["name"], labels) == v);
    }
    CHECK(lines == samples.size());
}

TEST_CASE("Serve.Systemd.UnitVerifiesWithSystemdAnalyze") {
    const std::string unit = test::source_dir() + "/examples/systemd/artistsaid-serve.service";
    std::ifstream in(unit);
    std::stringstream text;
    text << in.rdbuf();
    const std::string content = text.str();
    for (const char* line : {"Type=notify", "WatchdogSec=", "Restart=on-failure",
                             "LoadCredential=stripe_webhook_secret:",
                             "LoadCredential=twilio_auth_token:", "ExecStart=/usr/local/bin/artistsaid serve"})
        CHECK(content.find(line) != std::string::npos);
    if (std::system("command -v systemd-analyze >/dev/null 2>&1") != 0) {
        MESSAGE("systemd-analyze is not installed: unit not verified");
        return;
    }
    // Verified with ExecStart pointing at the built binary (systemd checks it exists).
    auto dir = test::fs::temp_directory_path() / test::unique_name("aa_unit");
    test::fs::create_directories(dir);
    auto write = [&](const std::string& body) {
        std::ofstream(dir / "artistsaid-serve.service") << body;
        return test::shell("systemd-analyze verify " + (dir / "artistsaid-serve.service").string() +
                           " 2>&1; true");
    };
    std::string ours = content;
    ours.replace(ours.find("/usr/local/bin/artistsaid"), 25, test::cli_binary());
    CHECK(write(ours) == "");
    // The check can fail: a broken directive is reported.
    std::string broken = ours;
    broken.replace(broken.find("WatchdogSec=30s"), 15, "WatchdogSec=soon");
    CHECK(write(broken) != "");
    test::fs::remove_all(dir);
}

TEST_CASE("Serve.Systemd.EveryExampleUnitVerifies") {
    // The worker, scheduler and tick units next to serve's: the long-running ones are
    // Type=notify with a watchdog and restart on failure; systemd-analyze accepts them all.
    const std::string dir_in = test::source_dir() + "/examples/systemd/";
    auto read = [&](const std::string& name) {
        std::ifstream in(dir_in + name);
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
    };
    for (const char* name : {"artistsaid-worker@.service", "artistsaid-scheduler.service",
                             "artistsaid-serve.service"}) {
        const std::string content = read(name);
        for (const char* line : {"Type=notify", "WatchdogSec=", "Restart=on-failure",
                                 "LoadCredential=pgpass:", "Environment=PGPASSFILE=%d/pgpass"})
            CHECK_MESSAGE(content.find(line) != std::string::npos, name << ": " << line);
    }
    CHECK(read("artistsaid-tick.timer").find("Unit=artistsaid-tick.service") != std::string::npos);
    CHECK(read("artistsaid-tick.timer").find("OnCalendar=minutely") != std::string::npos);
    CHECK(read("artistsaid-tick.service").find("ExecStart=/usr/local/bin/artistsaid tick") !=
          std::string::npos);
    CHECK(read("artistsaid-tick.service").find("LoadCredential=pgpass:") != std::string::npos);
    {
        std::ifstream in(test::source_dir() + "/examples/cron/artistsaid.crontab");
        std::stringstream text;
        text << in.rdbuf();
        CHECK(text.str().find("* * * * * /usr/local/bin/artistsaid tick") != std::string::npos);
    }
    if (std::system("command -v systemd-analyze >/dev/null 2>&1") != 0) {
        MESSAGE("systemd-analyze is not installed: units not verified");
        return;
    }
    auto dir = test::fs::temp_directory_path() / test::unique_name("aa_units");
    test::fs::create_directories(dir);
    // Written with ExecStart pointing at the built binary (systemd checks it exists); the
    // worker template is verified as an instance.
    const std::pair<const char*, const char*> units[] = {
        {"artistsaid-worker@.service", "artistsaid-worker@1.service"},
        {"artistsaid-scheduler.service", "artistsaid-scheduler.service"},
        {"artistsaid-tick.service", "artistsaid-tick.service"},
        {"artistsaid-tick.timer", "artistsaid-tick.timer"}};
    for (const auto& [source, target] : units) {
        std::string body = read(source);
        for (auto at = body.find("/usr/local/bin/artistsaid"); at != std::string::npos;
             at = body.find("/usr/local/bin/artistsaid", at))
            body.replace(at, 25, test::cli_binary());
        std::ofstream(dir / target) << body;
    }
    for (const auto& [source, target] : units)
        CHECK_MESSAGE(test::shell("systemd-analyze verify " + (dir / target).string() +
                                  " 2>&1; true") == "",
                      source);
    test::fs::remove_all(dir);
}

TEST_CASE("Serve.Systemd.ReadyWatchdogAndStoppingNotifications") {
    test::ServeFixture f;
    std::string path = "/tmp/" + test::unique_name("aa_serve_notify") + ".sock";
    int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    timeval tv{0, 100000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    auto receive_until = [&](const std::string& wanted, std::chrono::milliseconds timeout) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            char buf[512];
            ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n > 0 && std::string(buf, static_cast<size_t>(n)).find(wanted) != std::string::npos)
                return true;
        }
        return false;
    };
    f.start({{"NOTIFY_SOCKET", path}, {"WATCHDOG_USEC", "1000000"}});
    CHECK(receive_until("READY=1", 10s));
    CHECK(receive_until("WATCHDOG=1", 5s));  // fed only after the event loop answered
    f.server->signal(SIGTERM);
    CHECK(receive_until("STOPPING=1", 10s));
    CHECK(f.server->wait(30s) == std::optional<int>(0));
    ::close(fd);
    ::unlink(path.c_str());
}

TEST_CASE("Serve.Usage.BadListenAddressesAndABusyPort") {
    test::ServeFixture f;
    auto opts = f.cli_options();
    opts.timeout = 30s;
    CHECK(test::run_cli({"serve", "--listen", "nowhere"}, opts).exit_code == 2);
    CHECK(test::run_cli({"serve", "--listen", "127.0.0.1:99999"}, opts).exit_code == 2);
    CHECK(test::run_cli({"serve", "--listen", "not-an-ip:8080"}, opts).exit_code == 2);
    f.start();
    // The port is taken by the running server: a dependency problem, exit 3.
    auto busy = test::run_cli({"serve", "--listen", "127.0.0.1:" + std::to_string(f.port)}, opts);
    INFO(busy.err);
    CHECK(busy.exit_code == 3);
    CHECK(busy.err.find("cannot listen on") != std::string::npos);
}
