// The Redis-backed reliable job queue.
//
// Guarantees: at-least-once delivery with leases — a fetched job is leased for
// `lease` and must be acknowledged, failed or renewed before it expires; a job whose
// lease expires (its worker died or hung) is delivered again with its attempt count
// incremented. Every transition is one Lua script, so a crash at any instant leaves each
// job in exactly one state. Failed jobs retry with backoff, then move to the dead set with
// their error history. Also: delayed jobs, priorities 0..9 (FIFO within a level), unique
// jobs, cancellation, pause/resume, per-key concurrency and rate limits, batch enqueue,
// fetch and ack.
//
// Keys of queue Q under prefix P all start with "{P:Q}", one hash tag, so the scripts stay
// valid on Redis Cluster; the prefix isolates tenants and tests.
// Thread-safety: a RedisQueue borrows a connection, so use one per thread.
#pragma once

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/queue/job.hpp"
#include "engine/queue/job_duration_histogram.hpp"
#include "engine/queue/redis_connection.hpp"

namespace artistsaid::queue {

struct QueueStats {
    std::string queue;
    long long ready = 0, delayed = 0, running = 0, dead = 0, parked = 0;
    long long enqueued = 0, processed = 0, failed = 0, retried = 0, cancelled = 0;
    bool paused = false;
};

struct FetchResult {
    std::vector<LeasedJob> jobs;
    /// Time until the next delayed job or lease expiry falls due; nullopt if none.
    std::optional<std::chrono::milliseconds> next_due;
};

enum class FailOutcome { kRetry, kDead, kStale };
enum class CancelOutcome { kCancelled, kRunning, kDead, kNotFound };

struct DeadJob {
    std::string id;
    std::string type;
    std::string payload;
    int attempts = 0;
    int64_t died_at_ms = 0;
    int64_t enqueued_at_ms = 0;
    std::string errors_json;  // JSON array of {attempt, at, error, kind}
};

class RedisQueue {
public:
    static constexpr size_t kDefaultMaxPayload = 512 * 1024;
    /// Jobs per enqueue script call: bounds how long one call holds Redis.
    static constexpr size_t kEnqueueChunk = 1000;

    RedisQueue(RedisConnection& connection, std::string prefix,
               size_t max_payload_bytes = kDefaultMaxPayload);

    /// Enqueues one job; see enqueue_batch.
    EnqueueResult enqueue(const std::string& queue, const NewJob& job);
    /// Enqueues many jobs: one script call per chunk of kEnqueueChunk jobs, each atomic,
    /// all pipelined in one round trip. Every job is checked first: a payload over the
    /// limit, a bad priority or retry policy throws InputError and enqueues nothing.
    std::vector<EnqueueResult> enqueue_batch(const std::string& queue,
                                             const std::vector<NewJob>& jobs);

    /// Leases up to `max` jobs without blocking. With max 0 it only reaps expired leases
    /// and promotes due delayed jobs (housekeeping).
    FetchResult fetch(const std::string& queue, int max, std::chrono::milliseconds lease,
                      const std::string& worker_id);

    /// Blocks until some job may be ready in one of `queues` (an enqueue, a release, a
    /// resume signalled it) or `timeout` passes. Returns true if woken by a signal.
    bool wait_for_work(const std::vector<std::string>& queues, std::chrono::milliseconds timeout);

    /// Acknowledges finished jobs (one round trip per queue). Returns how many were
    /// acknowledged; stale ones (lease lost and delivered again) are not counted.
    int ack(const std::vector<LeasedJob>& jobs);
    /// Records a failure. `retry_delay` unset: no retry (straight to the dead set).
    FailOutcome fail(const LeasedJob& job, const std::string& error, std::string_view kind,
                     std::optional<std::chrono::milliseconds> retry_delay);
    /// Extends leases; returns the ids whose lease was lost.
    std::vector<std::string> renew(const std::vector<LeasedJob>& jobs,
                                   std::chrono::milliseconds lease);
    /// Gives leased jobs back at once (shutdown); the delivery does not count as an attempt.
    int release(const std::vector<LeasedJob>& jobs);

    CancelOutcome cancel(const std::string& queue, const std::string& id);

    QueueStats stats(const std::string& queue);
    /// How long the queue's handlers ran: the "processed" then the "failed" histogram
    /// (recorded by ack and fail from LeasedJob::run_us; see JobDurationHistogram).
    std::vector<JobDurations> durations(const std::string& queue);
    /// Queue names that have ever had a job enqueued under this prefix.
    std::vector<std::string> queues();

    std::vector<DeadJob> dead_list(const std::string& queue, int limit = 100);
    std::optional<DeadJob> dead_show(const std::string& queue, const std::string& id);
    /// Retries one dead job (true) or reports it is not in the dead set (false).
    bool dead_retry(const std::string& queue, const std::string& id);
    long long dead_retry_all(const std::string& queue);
    long long dead_purge(const std::string& queue);

    void pause(const std::string& queue);
    void resume(const std::string& queue);

    /// At most `limit` jobs with `key` run at once in `queue`; 0 removes the limit.
    void set_concurrency_limit(const std::string& queue, const std::string& key, int limit);
    /// Jobs with `key` start at most `rate` per `period`, with bursts up to `burst`;
    /// rate 0 removes the limit.
    void set_rate_limit(const std::string& queue, const std::string& key, int rate,
                        std::chrono::milliseconds period, int burst);

    /// The base key of a queue: "{prefix:queue}".
    std::string base_key(const std::string& queue) const;
    const std::string& prefix() const { return prefix_; }

private:
    RedisConnection& conn_;
    std::string prefix_;
    size_t max_payload_;
    std::set<std::string> registered_;  // queue names this instance has registered
};

namespace detail {
/// How a job is stored: "type \x1f max_attempts:base_ms:max_ms \x1f payload" (one hash
/// field, so enqueue and fetch move one value instead of three).
constexpr char kJobFieldSeparator = '\x1f';
std::string pack_job(const std::string& type, const RetryPolicy& retry, const std::string& payload);
void unpack_job(std::string_view packed, std::string& type, RetryPolicy& retry,
                std::string& payload);
}  // namespace detail

/// Checks a queue name: 1..64 characters of [A-Za-z0-9_.-]. Throws InputError.
void check_queue_name(const std::string& queue);

}  // namespace artistsaid::queue
