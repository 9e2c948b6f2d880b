// JobDurationHistogram: how long the handlers of a queue's jobs ran, as a Prometheus-style
// histogram that every worker adds to in Redis and `serve` exports on /metrics
// (artistsaid_job_duration_seconds).
//
// The worker measures each handler call and passes the duration with the ack or fail; the
// queue's Lua script adds it to the hash "{prefix:queue}:durations" in the same call that
// acknowledges or fails the job, so a duration is counted once per acknowledged job (a stale
// ack, whose job was delivered again, counts nothing) and once per failed attempt. Jobs
// whose handler never ran (unknown type, malformed payload, an expired lease) have no
// duration. The counters only grow, as Prometheus expects, until the queue's keys are
// deleted. Thread-safety: stateless.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace artistsaid::queue {

/// One outcome's histogram of one queue.
struct JobDurations {
    std::string queue;
    std::string outcome;            // "processed" (acknowledged) or "failed" (a failed attempt)
    std::vector<long long> counts;  // per bucket, NOT cumulative: one per bound, then +Inf
    long long sum_us = 0;           // total of the durations, microseconds

    long long count() const;
};

class JobDurationHistogram {
public:
    /// Upper bounds of the buckets (inclusive), ascending; a last +Inf bucket follows.
    static const std::vector<std::chrono::microseconds>& bounds();
    /// The index of the bucket a duration falls in (bounds().size() for +Inf).
    static std::size_t bucket_of(std::chrono::microseconds duration);
    /// The Redis hash field of a bucket or of the sum: "processed:3", "failed:sum_us".
    static std::string field(std::string_view outcome, std::size_t bucket);
    static std::string sum_field(std::string_view outcome);
};

}  // namespace artistsaid::queue
