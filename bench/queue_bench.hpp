// `artistsaid bench queue`: enqueue throughput (one at a time and batched), end-to-end
// throughput of no-op jobs through a real worker process, enqueue→start latency at a
// fixed offered load, and the worker's RSS. Results in bench/RESULTS.md.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace artistsaid::bench {

struct QueueBenchOptions {
    std::string redis_url;
    std::string worker_binary;     // the artistsaid binary, run as `worker`
    int jobs = 200000;             // pre-enqueued no-op jobs for the throughput run
    int concurrency = 8;           // of the worker process
    int single_jobs = 20000;       // enqueued one at a time
    int latency_jobs = 5000;       // at `latency_rate` jobs/s
    int latency_rate = 1000;
};

/// Runs the benchmark under a fresh key prefix (removed afterwards) and returns
/// {enqueue_single_per_s, enqueue_batch_per_s, process_per_s, latency_p50_ms,
///  latency_p99_ms, latency_p999_ms, rss_idle_kib, rss_peak_kib, …}.
nlohmann::json run_queue_bench(const QueueBenchOptions& options);

}  // namespace artistsaid::bench
