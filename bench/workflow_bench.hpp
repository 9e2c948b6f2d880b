// `artistsaid bench workflow`: throughput of the durable run-time end to end — runs of a
// 5-step linear workflow of no-op steps, runs of a 1→100 fan-out, and one for_each over a
// million items (its time and the worker's peak RSS) — through a real worker process of
// the same binary, against a private PostgreSQL database and Redis key prefix that it
// creates and removes. Results in bench/RESULTS.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace artistsaid::bench {

struct WorkflowBenchOptions {
    std::string database_url;  // a role that may CREATE DATABASE (the bench uses its own)
    std::string redis_url;
    std::filesystem::path migrations_dir;
    std::string worker_binary;  // the artistsaid binary, run as `worker`
    int runs = 2000;            // linear5 runs; the fan-out phase runs runs/10 (at least 10)
    std::int64_t items = 1'000'000;  // for_each items (0 skips the phase)
    int concurrency = 8;        // of the worker process
    int starters = 4;           // threads starting runs
    int max_parallel = 64;      // of the big for_each
};

/// Runs the phases and returns one JSON object: linear5_runs, linear5_runs_per_s,
/// fanout100_runs, fanout100_runs_per_s, foreach_items, foreach_seconds,
/// foreach_items_per_s, foreach_peak_rss_kib, worker_rss_idle_kib, and the settings.
/// Every phase has a deadline; a phase that misses it throws WorkError.
nlohmann::json run_workflow_bench(const WorkflowBenchOptions& options);

}  // namespace artistsaid::bench
