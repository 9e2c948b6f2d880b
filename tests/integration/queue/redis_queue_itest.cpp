// The queue's semantics against the real Redis that scripts/test.sh starts.
#include <doctest/doctest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "engine/core/error.hpp"
#include "engine/queue/redis_queue.hpp"
#include "tests/support/redis_guard.hpp"

using namespace artistsaid::queue;
using namespace std::chrono_literals;
using artistsaid::test::RedisPrefixGuard;
using artistsaid::test::redis_connection;

namespace {

NewJob job(std::string type, std::string payload = "{}") {
    NewJob j;
    j.type = std::move(type);
    j.payload = std::move(payload);
    return j;
}

// A queue under the test's own prefix, with its own connection.
struct QueueFixture {
    RedisPrefixGuard guard;
    RedisConnection conn = redis_connection();
    RedisQueue q{conn, guard.prefix()};
};

std::vector<std::string> types_of(const FetchResult& r) {
    std::vector<std::string> out;
    for (const auto& j : r.jobs) out.push_back(j.type);
    return out;
}

}  // namespace

TEST_CASE("Queue.Basic.EnqueueFetchAck") {
    QueueFixture f;
    auto id = f.q.enqueue("default", job("email.send", R"({"to":"ada@example.com"})")).id;
    auto s = f.q.stats("default");
    CHECK(s.ready == 1);
    CHECK(s.enqueued == 1);

    auto got = f.q.fetch("default", 10, 5s, "w1");
    REQUIRE(got.jobs.size() == 1);
    CHECK(got.jobs[0].id == id);
    CHECK(got.jobs[0].type == "email.send");
    CHECK(got.jobs[0].payload == R"({"to":"ada@example.com"})");
    CHECK(got.jobs[0].attempt == 1);
    CHECK(f.q.stats("default").running == 1);

    CHECK(f.q.ack(got.jobs) == 1);
    s = f.q.stats("default");
    CHECK(s.running == 0);
    CHECK(s.ready == 0);
    CHECK(s.processed == 1);
    CHECK(f.q.fetch("default", 10, 5s, "w1").jobs.empty());
    CHECK(f.q.queues() == std::vector<std::string>{"default"});
}

TEST_CASE("Queue.Priority.HigherFirstFifoWithinLevel") {
    QueueFixture f;
    auto add = [&](std::string name, int prio) {
        NewJob j = job(std::move(name));
        j.options.priority = prio;
        f.q.enqueue("billing", j);
    };
    add("low-1", priority::kLow);
    add("normal-1", priority::kNormal);
    add("high-1", priority::kHigh);
    add("low-2", priority::kLow);
    add("high-2", priority::kHigh);
    add("normal-2", priority::kNormal);
    auto got = f.q.fetch("billing", 10, 5s, "w");
    CHECK(types_of(got) == std::vector<std::string>{"high-1", "high-2", "normal-1", "normal-2",
                                                    "low-1", "low-2"});
}

TEST_CASE("Queue.Delayed.NotStartedEarly") {
    QueueFixture f;
    NewJob j = job("reminder");
    j.options.run_at = std::chrono::system_clock::now() + 400ms;
    f.q.enqueue("default", j);
    CHECK(f.q.stats("default").delayed == 1);
    auto early = f.q.fetch("default", 10, 5s, "w");
    CHECK(early.jobs.empty());
    REQUIRE(early.next_due.has_value());
    CHECK(*early.next_due <= 400ms);
    CHECK(*early.next_due >= 200ms);
    std::this_thread::sleep_for(150ms);
    CHECK(f.q.fetch("default", 10, 5s, "w").jobs.empty());
    std::this_thread::sleep_for(300ms);
    auto later = f.q.fetch("default", 10, 5s, "w");
    CHECK(later.jobs.size() == 1);
}

TEST_CASE("Queue.Unique.PendingOrRunningDuplicateReturnsExistingId") {
    QueueFixture f;
    NewJob j = job("invoice.render", R"({"invoice":42})");
    j.options.unique_key = "invoice:42";
    auto first = f.q.enqueue("default", j);
    auto second = f.q.enqueue("default", j);
    CHECK_FALSE(first.duplicate);
    CHECK(second.duplicate);
    CHECK(second.id == first.id);
    CHECK(f.q.stats("default").ready == 1);

    auto got = f.q.fetch("default", 1, 5s, "w");
    REQUIRE(got.jobs.size() == 1);
    CHECK(f.q.enqueue("default", j).id == first.id);  // still running: same job
    f.q.ack(got.jobs);
    auto third = f.q.enqueue("default", j);  // finished: a new one may start
    CHECK_FALSE(third.duplicate);
    CHECK(third.id != first.id);
}

TEST_CASE("Queue.Cancel.PendingJobsOnly") {
    QueueFixture f;
    auto pending = f.q.enqueue("default", job("a")).id;
    NewJob later = job("b");
    later.options.run_at = std::chrono::system_clock::now() + 1h;
    auto delayed = f.q.enqueue("default", later).id;
    CHECK(f.q.cancel("default", pending) == CancelOutcome::kCancelled);
    CHECK(f.q.cancel("default", delayed) == CancelOutcome::kCancelled);
    CHECK(f.q.cancel("default", pending) == CancelOutcome::kNotFound);
    auto running = f.q.enqueue("default", job("c")).id;
    auto got = f.q.fetch("default", 10, 5s, "w");
    REQUIRE(got.jobs.size() == 1);
    CHECK(got.jobs[0].id == running);
    CHECK(f.q.cancel("default", running) == CancelOutcome::kRunning);
    auto s = f.q.stats("default");
    CHECK(s.cancelled == 2);
    CHECK(s.delayed == 0);
}

TEST_CASE("Queue.Pause.StopsFetchingUntilResumed") {
    QueueFixture f;
    f.q.enqueue("default", job("a"));
    f.q.pause("default");
    CHECK(f.q.stats("default").paused);
    CHECK(f.q.fetch("default", 10, 5s, "w").jobs.empty());
    f.q.enqueue("default", job("b"));  // enqueue still accepted while paused
    f.q.resume("default");
    CHECK(f.q.fetch("default", 10, 5s, "w").jobs.size() == 2);
}

TEST_CASE("Queue.Lease.ExpiredJobIsRedeliveredWithNextAttempt") {
    QueueFixture f;
    f.q.enqueue("default", job("slow"));
    auto first = f.q.fetch("default", 1, 200ms, "w1");
    REQUIRE(first.jobs.size() == 1);
    CHECK(f.q.fetch("default", 1, 200ms, "w2").jobs.empty());  // leased: not delivered twice
    std::this_thread::sleep_for(300ms);
    auto again = f.q.fetch("default", 1, 5s, "w2");
    REQUIRE(again.jobs.size() == 1);
    CHECK(again.jobs[0].id == first.jobs[0].id);
    CHECK(again.jobs[0].attempt == 2);
    auto history = nlohmann::json::parse(again.jobs[0].errors_json);
    REQUIRE(history.size() == 1);
    CHECK(history[0]["kind"] == "lease_expired");
    // The first worker's late ack is refused: the job belongs to w2 now.
    CHECK(f.q.ack(first.jobs) == 0);
    CHECK(f.q.ack(again.jobs) == 1);
}

TEST_CASE("Queue.Lease.RenewKeepsTheJobAndReportsLostLeases") {
    QueueFixture f;
    f.q.enqueue("default", job("long"));
    auto got = f.q.fetch("default", 1, 300ms, "w1");
    REQUIRE(got.jobs.size() == 1);
    for (int i = 0; i < 4; ++i) {
        std::this_thread::sleep_for(150ms);
        CHECK(f.q.renew(got.jobs, 300ms).empty());
    }
    CHECK(f.q.fetch("default", 1, 300ms, "w2").jobs.empty());  // 600 ms later: still ours
    std::this_thread::sleep_for(400ms);
    auto stolen = f.q.fetch("default", 1, 5s, "w2");
    REQUIRE(stolen.jobs.size() == 1);
    CHECK(f.q.renew(got.jobs, 300ms) == std::vector<std::string>{got.jobs[0].id});
}

TEST_CASE("Queue.Release.GivesJobsBackWithoutUsingAnAttempt") {
    QueueFixture f;
    f.q.enqueue("default", job("a"));
    f.q.enqueue("default", job("b"));
    auto got = f.q.fetch("default", 2, 5s, "w1");
    REQUIRE(got.jobs.size() == 2);
    CHECK(f.q.release(got.jobs) == 2);
    auto again = f.q.fetch("default", 2, 5s, "w2");
    CHECK(types_of(again) == std::vector<std::string>{"a", "b"});  // original order kept
    for (const auto& j : again.jobs) CHECK(j.attempt == 1);
}

TEST_CASE("Queue.Retry.BackoffThenDeadThenRetryFromDead") {
    QueueFixture f;
    NewJob j = job("payments.charge");
    j.options.retry.max_attempts = 3;
    f.q.enqueue("billing", j);

    auto a1 = f.q.fetch("billing", 1, 5s, "w");
    REQUIRE(a1.jobs.size() == 1);
    CHECK(f.q.fail(a1.jobs[0], "gateway timeout", "error", 150ms) == FailOutcome::kRetry);
    CHECK(f.q.stats("billing").delayed == 1);
    CHECK(f.q.fetch("billing", 1, 5s, "w").jobs.empty());  // backing off
    std::this_thread::sleep_for(200ms);
    auto a2 = f.q.fetch("billing", 1, 5s, "w");
    REQUIRE(a2.jobs.size() == 1);
    CHECK(a2.jobs[0].attempt == 2);
    CHECK(f.q.fail(a2.jobs[0], "gateway timeout again", "error", 0ms) == FailOutcome::kRetry);
    auto a3 = f.q.fetch("billing", 1, 5s, "w");
    REQUIRE(a3.jobs.size() == 1);
    CHECK(a3.jobs[0].attempt == 3);
    CHECK(f.q.fail(a3.jobs[0], "declined: do_not_honor", "error", 0ms) == FailOutcome::kDead);
    CHECK(f.q.fail(a3.jobs[0], "late", "error", 0ms) == FailOutcome::kStale);

    auto s = f.q.stats("billing");
    CHECK(s.dead == 1);
    CHECK(s.failed == 1);
    CHECK(s.retried == 2);
    auto dead = f.q.dead_list("billing");
    REQUIRE(dead.size() == 1);
    CHECK(dead[0].attempts == 3);
    auto history = nlohmann::json::parse(dead[0].errors_json);
    REQUIRE(history.size() == 3);
    CHECK(history[0]["error"] == "gateway timeout");
    CHECK(history[2]["attempt"] == 3);

    CHECK(f.q.dead_retry("billing", dead[0].id));
    CHECK_FALSE(f.q.dead_retry("billing", dead[0].id));
    auto revived = f.q.fetch("billing", 1, 5s, "w");
    REQUIRE(revived.jobs.size() == 1);
    CHECK(revived.jobs[0].attempt == 1);
    CHECK(f.q.fail(revived.jobs[0], "still failing", "error", std::nullopt) == FailOutcome::kDead);
    CHECK(f.q.dead_purge("billing") == 1);
    CHECK(f.q.stats("billing").dead == 0);
}

TEST_CASE("Queue.Dead.RetryAllMovesEveryDeadJob") {
    QueueFixture f;
    for (int i = 0; i < 5; ++i) {
        NewJob j = job("x" + std::to_string(i));
        j.options.retry.max_attempts = 1;
        f.q.enqueue("default", j);
    }
    auto got = f.q.fetch("default", 5, 5s, "w");
    for (const auto& j : got.jobs) f.q.fail(j, "boom", "error", 0ms);
    CHECK(f.q.stats("default").dead == 5);
    CHECK(f.q.dead_retry_all("default") == 5);
    CHECK(f.q.stats("default").ready == 5);
}

TEST_CASE("Queue.ConcurrencyLimit.ParksJobsOverTheLimitWithoutBlockingOthers") {
    QueueFixture f;
    f.q.set_concurrency_limit("default", "tenant:x", 2);
    for (int i = 0; i < 5; ++i) {
        NewJob j = job("x");
        j.options.concurrency_key = "tenant:x";
        f.q.enqueue("default", j);
    }
    for (int i = 0; i < 3; ++i) f.q.enqueue("default", job("other"));
    auto got = f.q.fetch("default", 100, 5s, "w");
    auto types = types_of(got);
    CHECK(std::count(types.begin(), types.end(), "x") == 2);
    CHECK(std::count(types.begin(), types.end(), "other") == 3);
    CHECK(f.q.stats("default").parked == 3);
    CHECK(f.q.fetch("default", 100, 5s, "w").jobs.empty());

    std::vector<LeasedJob> one_x;
    for (const auto& j : got.jobs)
        if (j.type == "x" && one_x.empty()) one_x.push_back(j);
    f.q.ack(one_x);  // frees one slot: exactly one parked job comes back
    auto next = f.q.fetch("default", 100, 5s, "w");
    CHECK(types_of(next) == std::vector<std::string>{"x"});
    CHECK(f.q.stats("default").parked == 2);
}

TEST_CASE("Queue.RateLimit.StartsAtMostRatePerPeriod") {
    QueueFixture f;
    f.q.set_rate_limit("default", "stripe", 5, 1000ms, 5);
    for (int i = 0; i < 12; ++i) {
        NewJob j = job("stripe.call");
        j.options.rate_key = "stripe";
        f.q.enqueue("default", j);
    }
    f.q.enqueue("default", job("unlimited"));
    auto got = f.q.fetch("default", 100, 5s, "w");
    auto types = types_of(got);
    CHECK(std::count(types.begin(), types.end(), "stripe.call") == 5);
    CHECK(std::count(types.begin(), types.end(), "unlimited") == 1);
    auto s = f.q.stats("default");
    CHECK(s.delayed == 7);  // each holds a reserved token, due 200 ms apart
    REQUIRE(got.next_due.has_value());
    CHECK(*got.next_due <= 200ms);
    std::this_thread::sleep_for(450ms);
    auto more = f.q.fetch("default", 100, 5s, "w");
    CHECK(more.jobs.size() == 2);
}

TEST_CASE("Queue.Enqueue.RejectsBadInputAndChangesNothing") {
    QueueFixture f;
    RedisQueue small(f.conn, f.guard.prefix(), 64);
    std::vector<NewJob> batch{job("ok"), job("too-big", std::string(65, 'x'))};
    try {
        small.enqueue_batch("default", batch);
        FAIL("expected InputError");
    } catch (const artistsaid::InputError& e) {
        CHECK(std::string(e.what()).find("exceeds the limit of 64 bytes") != std::string::npos);
    }
    NewJob bad_prio = job("x");
    bad_prio.options.priority = 11;
    CHECK_THROWS_AS(f.q.enqueue("default", bad_prio), artistsaid::InputError);
    CHECK_THROWS_AS(f.q.enqueue("no spaces allowed", job("x")), artistsaid::InputError);
    CHECK(f.q.stats("default").ready == 0);
}

TEST_CASE("Queue.Scripts.SurviveScriptFlush") {
    QueueFixture f;
    f.q.enqueue("default", job("a"));
    f.conn.command({"SCRIPT", "FLUSH"});
    f.q.enqueue("default", job("b"));
    CHECK(f.q.fetch("default", 10, 5s, "w").jobs.size() == 2);
}

TEST_CASE("Queue.Batch.ManyJobsPerRoundTrip") {
    for (int n : {1, 100, 5000}) {
        CAPTURE(n);
        QueueFixture f;
        std::vector<NewJob> batch;
        for (int i = 0; i < n; ++i) batch.push_back(job("noop", std::to_string(i)));
        auto ids = f.q.enqueue_batch("default", batch);
        CHECK(ids.size() == static_cast<size_t>(n));
        std::set<std::string> seen;
        int fetched = 0;
        for (int round = 0; round < n && fetched < n; ++round) {
            auto got = f.q.fetch("default", 1000, 5s, "w");
            for (const auto& j : got.jobs) {
                CHECK(j.payload == std::to_string(fetched));  // FIFO
                seen.insert(j.id);
                ++fetched;
            }
            CHECK(f.q.ack(got.jobs) == static_cast<int>(got.jobs.size()));
        }
        CHECK(fetched == n);
        CHECK(seen.size() == static_cast<size_t>(n));
        CHECK(f.q.stats("default").processed == n);
    }
}

TEST_CASE("Queue.Wait.WakesOnEnqueueWithoutPolling") {
    QueueFixture f;
    auto waiter_conn = redis_connection();
    RedisQueue waiter(waiter_conn, f.guard.prefix());
    auto started = std::chrono::steady_clock::now();
    std::thread producer([&] {
        std::this_thread::sleep_for(100ms);
        f.q.enqueue("default", job("a"));
    });
    bool woke = waiter.wait_for_work({"default"}, 5s);
    auto waited = std::chrono::steady_clock::now() - started;
    producer.join();
    CHECK(woke);
    CHECK(waited < 3s);  // woken by the enqueue, long before the 5 s timeout
    CHECK(waiter.fetch("default", 10, 5s, "w").jobs.size() == 1);
    CHECK_FALSE(waiter.wait_for_work({"default"}, 50ms));
}

TEST_CASE("Queue.Durations.AckAndFailAddToTheHistogramOncePerJob") {
    QueueFixture f;
    for (int i = 0; i < 4; ++i) f.q.enqueue("timed", job("t"));
    auto got = f.q.fetch("timed", 4, 5s, "w1");
    REQUIRE(got.jobs.size() == 4);
    // 0.5 ms, 7 ms and 2 s ran; the fourth's handler never ran (no duration).
    got.jobs[0].run_us = 500;
    got.jobs[1].run_us = 7'000;
    got.jobs[2].run_us = 2'000'000;
    std::vector<LeasedJob> done(got.jobs.begin(), got.jobs.begin() + 3);
    done.push_back(got.jobs[3]);
    CHECK(f.q.ack(done) == 4);
    // A stale ack of the same jobs (already acknowledged) adds nothing.
    CHECK(f.q.ack(done) == 0);

    f.q.enqueue("timed", job("t"));
    auto failing = f.q.fetch("timed", 1, 5s, "w1");
    REQUIRE(failing.jobs.size() == 1);
    failing.jobs[0].run_us = 45'000'000;  // 45 s, then failed
    CHECK(f.q.fail(failing.jobs[0], "boom", "error", 1ms) == FailOutcome::kRetry);
    CHECK(f.q.fail(failing.jobs[0], "boom", "error", 1ms) == FailOutcome::kStale);

    auto d = f.q.durations("timed");
    REQUIRE(d.size() == 2);
    const auto& bounds = JobDurationHistogram::bounds();
    REQUIRE(d[0].counts.size() == bounds.size() + 1);
    CHECK(d[0].outcome == "processed");
    CHECK(d[0].queue == "timed");
    CHECK(d[0].count() == 3);
    CHECK(d[0].sum_us == 500 + 7'000 + 2'000'000);
    CHECK(d[0].counts[JobDurationHistogram::bucket_of(500us)] == 1);
    CHECK(JobDurationHistogram::bucket_of(500us) == 0);                  // <= 1 ms
    CHECK(d[0].counts[JobDurationHistogram::bucket_of(7ms)] == 1);       // <= 10 ms
    CHECK(bounds[JobDurationHistogram::bucket_of(7ms)] == 10ms);
    CHECK(d[0].counts[JobDurationHistogram::bucket_of(2s)] == 1);        // <= 5 s
    CHECK(bounds[JobDurationHistogram::bucket_of(2s)] == 5s);
    CHECK(d[1].outcome == "failed");
    CHECK(d[1].count() == 1);
    CHECK(d[1].sum_us == 45'000'000);
    CHECK(bounds[JobDurationHistogram::bucket_of(45s)] == 60s);
    CHECK(d[1].counts[JobDurationHistogram::bucket_of(45s)] == 1);
    // Beyond the last bound: the +Inf bucket; a bound itself is inside its bucket.
    CHECK(JobDurationHistogram::bucket_of(std::chrono::hours(1)) == bounds.size());
    CHECK(JobDurationHistogram::bucket_of(1ms) == 0);
    // A queue that never ran a job has empty histograms.
    auto none = f.q.durations("never");
    REQUIRE(none.size() == 2);
    CHECK(none[0].count() == 0);
    CHECK(none[1].sum_us == 0);
}
