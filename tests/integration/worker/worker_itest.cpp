// Worker processes against the real Redis: crashes, shutdown, limits, heartbeats, systemd.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "engine/queue/redis_queue.hpp"
#include "engine/worker/worker_registry.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/redis_guard.hpp"
#include "tests/support/test_env.hpp"

using namespace artistsaid;
using namespace std::chrono_literals;
using test::ChildProcess;
using test::eventually;

namespace {

std::string test_worker_binary() {
    const char* path = std::getenv("ARTISTSAID_TEST_WORKER");
    REQUIRE_MESSAGE(path != nullptr, "ARTISTSAID_TEST_WORKER is not set (run through CTest)");
    return path;
}

struct Fixture {
    test::RedisPrefixGuard guard;
    queue::RedisConnection conn = test::redis_connection();
    queue::RedisQueue q{conn, guard.prefix()};

    std::unique_ptr<ChildProcess> start_test_worker(std::vector<std::string> extra = {}) {
        std::vector<std::string> args{"redis=" + test::redis_url(), "prefix=" + guard.prefix()};
        args.insert(args.end(), extra.begin(), extra.end());
        return std::make_unique<ChildProcess>(test_worker_binary(), args);
    }
    // The real `artistsaid worker`, configured through the environment as systemd would.
    std::unique_ptr<ChildProcess> start_cli_worker(std::vector<std::string> args,
                                                   std::map<std::string, std::string> env = {}) {
        env["ARTISTSAID_REDIS_URL"] = test::redis_url();
        env["ARTISTSAID_QUEUE_PREFIX"] = guard.prefix();
        env["ARTISTSAID_LOG_FORMAT"] = "text";
        args.insert(args.begin(), "worker");
        return std::make_unique<ChildProcess>(test::cli_binary(), args, env);
    }
    long long llen(const std::string& key) {
        return conn.command({"LLEN", key}).view().integer();
    }
    std::vector<std::string> lrange(const std::string& key) {
        auto r = conn.command({"LRANGE", key, "0", "-1"});
        std::vector<std::string> out;
        for (size_t i = 0; i < r.view().size(); ++i) out.push_back(r.view()[i].string());
        return out;
    }
    std::string key(const std::string& name) const { return guard.prefix() + ":" + name; }
};

queue::NewJob record_job(const std::string& list, int sleep_ms) {
    queue::NewJob j;
    j.type = "test.record";
    j.payload = nlohmann::json{{"list", list}, {"sleep_ms", sleep_ms}}.dump();
    return j;
}

}  // namespace

TEST_CASE("Worker.Crash.KilledMidJobIsRedeliveredWithin10sWithDefaultSettings") {
    Fixture f;
    std::string list = f.key("exec");
    auto first = f.start_test_worker({"concurrency=1"});
    f.q.enqueue("default", record_job(list, 1000));
    REQUIRE(eventually([&] { return f.llen(list + ":started") == 1; }, 10s));
    first->signal(SIGKILL);
    auto killed_at = std::chrono::steady_clock::now();
    first->wait(5s);
    auto second = f.start_test_worker({"concurrency=1"});
    REQUIRE(eventually([&] { return f.llen(list + ":done") == 1; }, 15s));
    auto took = std::chrono::steady_clock::now() - killed_at;
    MESSAGE("redelivered and completed "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
            << " ms after the kill");
    CHECK(took < 10s);
    CHECK(f.llen(list + ":started") == 2);
    auto s = f.q.stats("default");
    CHECK(s.processed == 1);
    CHECK(s.running == 0);
}

TEST_CASE("Worker.Crash.TenThousandJobsSurviveRandomKills") {
    Fixture f;
    std::string list = f.key("exec");
    constexpr int kJobs = 10000, kWorkers = 4;
    std::vector<queue::NewJob> batch;
    for (int i = 0; i < kJobs; ++i) batch.push_back(record_job(list, 1));
    for (size_t i = 0; i < batch.size(); i += 1000)
        f.q.enqueue_batch("default", std::vector<queue::NewJob>(batch.begin() + i,
                                                                batch.begin() + i + 1000));
    const std::vector<std::string> args{"concurrency=8", "lease_ms=1000"};
    std::vector<std::unique_ptr<ChildProcess>> workers;
    for (int i = 0; i < kWorkers; ++i) workers.push_back(f.start_test_worker(args));

    std::mt19937 rng(20261127);
    int kills = 0;
    auto deadline = std::chrono::steady_clock::now() + 120s;
    auto finished = [&] {
        auto s = f.q.stats("default");
        return s.ready + s.delayed + s.running + s.parked == 0;
    };
    while (!finished() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 300));
        if (kills < 12 && !finished()) {
            auto& victim = workers[rng() % kWorkers];
            victim->signal(SIGKILL);
            victim->wait(5s);
            victim = f.start_test_worker(args);
            ++kills;
        }
    }
    REQUIRE(finished());
    auto done = f.lrange(list + ":done");
    std::set<std::string> unique(done.begin(), done.end());
    auto s = f.q.stats("default");
    MESSAGE(kJobs << " jobs, " << kills << " SIGKILLs: " << done.size() << " completed executions, "
                  << done.size() - unique.size() << " duplicates; "
                  << f.llen(list + ":started") << " started executions");
    CHECK(unique.size() == static_cast<size_t>(kJobs));
    CHECK(s.dead == 0);
    CHECK(s.processed <= kJobs);
    CHECK(kills >= 3);
}

TEST_CASE("Worker.Shutdown.SigtermDrainsWithinGraceAndGivesBackTheRestAtOnce") {
    Fixture f;
    auto worker = f.start_test_worker({"concurrency=4", "grace_ms=3000"});
    const std::string shorts = f.key("short"), longs = f.key("long"), tiny = f.key("tiny");
    for (int i = 0; i < 2; ++i) f.q.enqueue("default", record_job(shorts, 1500));
    for (int i = 0; i < 2; ++i) f.q.enqueue("default", record_job(longs, 60000));
    // All four handlers have started (a leased job may still sit in the worker's buffer).
    REQUIRE(eventually(
        [&] { return f.llen(shorts + ":started") == 2 && f.llen(longs + ":started") == 2; }, 10s));
    for (int i = 0; i < 6; ++i) f.q.enqueue("default", record_job(tiny, 10));  // buffered or ready
    worker->signal(SIGTERM);
    auto sent = std::chrono::steady_clock::now();
    auto code = worker->wait(20s);
    auto took = std::chrono::steady_clock::now() - sent;
    REQUIRE(code.has_value());
    CHECK(*code == 0);
    CHECK(took < 10s);  // the grace is 3 s, then out: not waiting for the 60 s handlers
    auto s = f.q.stats("default");
    INFO(worker->output());
    // The short handlers finished within the grace period; the long ones were cut off.
    CHECK(f.llen(shorts + ":done") == 2);
    CHECK(f.llen(longs + ":done") == 0);
    // No tiny job was cut off; none is left leased (given back, not waiting for expiry).
    const long long tiny_done = f.llen(tiny + ":done");
    CHECK(f.llen(tiny + ":started") == tiny_done);
    CHECK(s.processed == 2 + tiny_done);
    CHECK(s.running == 0);
    CHECK(s.ready == 2 + (6 - tiny_done));
    auto again = f.q.fetch("default", 100, 5s, "inspector");
    CHECK(again.jobs.size() == static_cast<std::size_t>(2 + (6 - tiny_done)));
    for (const auto& j : again.jobs) CHECK(j.attempt == 1);  // giving back used no attempt
}

TEST_CASE("Worker.BadJobs.MalformedPayloadAndUnknownTypeGoDeadWorkerLives") {
    Fixture f;
    auto worker = f.start_cli_worker({"--concurrency", "2"});
    queue::NewJob unknown;
    unknown.type = "no.such.type";
    unknown.payload = "{}";
    queue::NewJob malformed;
    malformed.type = "diag.noop";
    malformed.payload = "{not json";
    queue::NewJob invalid;
    invalid.type = "diag.sleep";
    invalid.payload = R"({"ms": "soon"})";
    f.q.enqueue("default", unknown);
    f.q.enqueue("default", malformed);
    f.q.enqueue("default", invalid);
    REQUIRE(eventually([&] { return f.q.stats("default").dead == 3; }, 10s));
    std::map<std::string, std::string> errors;
    for (const auto& d : f.q.dead_list("default")) {
        auto history = nlohmann::json::parse(d.errors_json);
        errors[d.type] = history.back()["error"];
        CHECK(d.attempts == 1);  // no retries: these can never succeed
    }
    CHECK(errors["no.such.type"].find("unknown job type 'no.such.type'") != std::string::npos);
    CHECK(errors["diag.noop"].find("malformed payload") != std::string::npos);
    CHECK(errors["diag.sleep"].find("diag.sleep needs") != std::string::npos);
    queue::NewJob ok;
    ok.type = "diag.noop";
    ok.payload = "{}";
    f.q.enqueue("default", ok);
    CHECK(eventually([&] { return f.q.stats("default").processed == 1; }, 10s));
    CHECK(worker->running());
}

TEST_CASE("Worker.Retry.BackoffThenDeadLetter") {
    Fixture f;
    auto worker = f.start_cli_worker({"--concurrency", "2"});
    queue::NewJob j;
    j.type = "diag.fail";
    j.payload = R"({"message": "gateway said no"})";
    j.options.retry.max_attempts = 3;
    j.options.retry.base_delay = 300ms;
    f.q.enqueue("default", j);
    REQUIRE(eventually([&] { return f.q.stats("default").dead == 1; }, 15s));
    auto dead = f.q.dead_list("default");
    REQUIRE(dead.size() == 1);
    auto history = nlohmann::json::parse(dead[0].errors_json);
    REQUIRE(history.size() == 3);
    // Delays: base 300 ms then 600 ms, each with equal jitter (at least half).
    auto gap1 = history[1]["at"].get<long long>() - history[0]["at"].get<long long>();
    auto gap2 = history[2]["at"].get<long long>() - history[1]["at"].get<long long>();
    MESSAGE("retry gaps " << gap1 << " ms and " << gap2 << " ms");
    CHECK(gap1 >= 150);
    CHECK(gap2 >= 300);
    CHECK(history[2]["error"] == "gateway said no");
    CHECK(f.q.stats("default").retried == 2);
}

TEST_CASE("Worker.Limits.ConcurrencyAndRateHoldUnderEightProcessors") {
    for (int workers : {1, 2}) {
        CAPTURE(workers);
        Fixture f;
        f.q.set_concurrency_limit("default", "tenant:x", 3);
        f.q.set_rate_limit("default", "stripe", 20, 1000ms, 1);
        std::vector<std::unique_ptr<ChildProcess>> procs;
        for (int i = 0; i < workers; ++i) procs.push_back(f.start_test_worker({"concurrency=8"}));
        std::vector<queue::NewJob> jobs;
        for (int i = 0; i < 30; ++i) {
            queue::NewJob j;
            j.type = "test.track";
            j.payload = nlohmann::json{{"key", f.key("tenant")}, {"sleep_ms", 60}}.dump();
            j.options.concurrency_key = "tenant:x";
            jobs.push_back(j);
            queue::NewJob r;
            r.type = "test.track";
            r.payload = nlohmann::json{{"key", f.key("stripe")}, {"sleep_ms", 1}}.dump();
            r.options.rate_key = "stripe";
            jobs.push_back(r);
        }
        f.q.enqueue_batch("default", jobs);
        REQUIRE(eventually([&] { return f.q.stats("default").processed == 60; }, 30s));
        long long max_tenant = f.conn.command({"GET", f.key("tenant") + ":max"}).view().integer();
        MESSAGE("max in flight for tenant:x (limit 3): " << max_tenant);
        CHECK(max_tenant <= 3);
        CHECK(max_tenant >= 2);  // the limit, not a single thread, is what bounds it
        std::vector<long long> starts;
        for (const auto& s : f.lrange(f.key("stripe") + ":starts")) starts.push_back(std::stoll(s));
        std::sort(starts.begin(), starts.end());
        REQUIRE(starts.size() == 30);
        // 20/s with a burst of 1: any 500 ms window holds at most 1 + 10 starts.
        size_t worst = 0;
        for (size_t i = 0; i < starts.size(); ++i) {
            size_t j = i;
            while (j < starts.size() && starts[j] < starts[i] + 500) ++j;
            worst = std::max(worst, j - i);
        }
        MESSAGE("most stripe starts in a 500 ms window (allowed 11): " << worst);
        CHECK(worst <= 11);
        CHECK(starts.back() - starts.front() >= 1300);  // 30 tokens at 20/s take ~1.45 s
    }
}

TEST_CASE("Worker.Heartbeat.VisibleAndExpiresAfterDeath") {
    Fixture f;
    auto worker = f.start_test_worker({"heartbeat_ms=200", "queues=billing,default"});
    worker::WorkerRegistry registry(f.conn, f.guard.prefix());
    REQUIRE(eventually([&] { return registry.list().size() == 1; }, 10s));
    auto w = registry.list().at(0);
    CHECK(w.pid == worker->pid());
    CHECK(w.queues == std::vector<std::string>{"billing", "default"});
    CHECK(w.concurrency == 8);
    worker->signal(SIGKILL);
    worker->wait(5s);
    CHECK(eventually([&] { return registry.list().empty(); }, 5s));  // TTL: 3 beats
}

TEST_CASE("Worker.Systemd.ReadyWatchdogStopping") {
    Fixture f;
    std::string path = "/tmp/" + test::unique_name("aa_notify") + ".sock";
    int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    timeval tv{0, 200000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    auto worker = f.start_cli_worker({}, {{"NOTIFY_SOCKET", path}, {"WATCHDOG_USEC", "400000"}});
    std::vector<std::string> messages;
    auto receive_until = [&](const std::string& wanted, std::chrono::milliseconds timeout) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            char buf[512];
            ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n > 0) {
                messages.emplace_back(buf, static_cast<size_t>(n));
                if (messages.back().find(wanted) != std::string::npos) return true;
            }
        }
        return false;
    };
    CHECK(receive_until("READY=1", 10s));
    int watchdogs = 0;
    for (int i = 0; i < 3; ++i) watchdogs += receive_until("WATCHDOG=1", 2s) ? 1 : 0;
    CHECK(watchdogs == 3);
    worker->signal(SIGTERM);
    CHECK(receive_until("STOPPING=1", 10s));
    CHECK(worker->wait(10s) == std::optional<int>(0));
    ::close(fd);
    ::unlink(path.c_str());
}
