// What goes into the queue and what comes out of it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "engine/queue/retry_policy.hpp"

namespace artistsaid::queue {

/// Priorities 0..9, higher first; FIFO within a level.
namespace priority {
constexpr int kLow = 2;
constexpr int kNormal = 5;
constexpr int kHigh = 8;
constexpr int kMin = 0;
constexpr int kMax = 9;
}  // namespace priority

struct JobOptions {
    int priority = priority::kNormal;
    /// Run no earlier than this (system clock). Unset: now.
    std::optional<std::chrono::system_clock::time_point> run_at;
    /// While a job with this key is pending or running, enqueueing another returns it.
    std::string unique_key;
    /// At most `limit` jobs with this key run at once (see RedisQueue::set_concurrency_limit).
    std::string concurrency_key;
    /// Jobs with this key start at most at the key's rate (RedisQueue::set_rate_limit).
    std::string rate_key;
    RetryPolicy retry;
};

struct NewJob {
    std::string type;       // the handler that runs it, e.g. "email.send"
    std::string payload;    // JSON text
    JobOptions options;
    std::string id;         // optional: a caller-chosen id (default: a new UUIDv7)
};

struct EnqueueResult {
    std::string id;
    bool duplicate = false;  // a pending job with the same unique key was returned instead
};

/// A job leased to a worker. `attempt` counts deliveries (1 on the first); it is the
/// lease token too: ack/fail/renew with a stale attempt are refused.
struct LeasedJob {
    std::string queue;
    std::string id;
    std::string type;
    std::string payload;
    int attempt = 0;
    RetryPolicy retry;
    int64_t enqueued_at_ms = 0;
    std::string errors_json;  // history of earlier failures, a JSON array
    /// How long the handler ran, set by the worker before ack/fail (-1: it did not run);
    /// added to the queue's JobDurationHistogram by the ack or fail.
    int64_t run_us = -1;
};

}  // namespace artistsaid::queue
