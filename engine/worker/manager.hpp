// The Manager owns a worker process's moving parts (Sidekiq's Manager): one fetcher
// thread that leases jobs in batches into a local buffer, N processors that run them, and
// one acker thread that acknowledges or fails finished jobs in batches. It tracks every
// job it holds (buffered, running, awaiting ack) so the launcher can renew their leases
// and, at shutdown, give back at once whatever did not finish.
//
// Guarantee: a job leaves this process only by ack, fail or release; if the process dies,
// its leases expire and the jobs are delivered again (at-least-once).
// Thread-safety: public methods may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "engine/queue/redis_queue.hpp"
#include "engine/worker/job_handler.hpp"
#include "engine/worker/processor.hpp"
#include "engine/worker/worker_options.hpp"

namespace artistsaid::worker {

class Manager {
public:
    Manager(WorkerOptions options, const HandlerRegistry& handlers, std::string worker_id);
    ~Manager();
    Manager(const Manager&) = delete;
    Manager& operator=(const Manager&) = delete;

    void start();
    /// Stops fetching and gives buffered (not started) jobs back to the queue at once.
    void quiet();
    /// After quiet(): waits until running jobs finish or `deadline`, acknowledges what
    /// finished, gives back the rest at once. Returns false if some handler is still
    /// running (its thread is detached; the caller should exit the process).
    bool stop(std::chrono::steady_clock::time_point deadline);

    int busy() const;
    bool is_quiet() const { return quiet_; }
    /// Every job this process holds (buffered, running or awaiting ack).
    std::vector<queue::LeasedJob> held_jobs() const;
    /// Jobs whose leases were lost: their handlers are asked to stop.
    void leases_lost(const std::vector<std::string>& ids);
    long long processed() const { return processed_; }
    long long failed() const { return failed_; }

    // For processors.
    std::optional<queue::LeasedJob> take(Processor& processor);
    void finished(JobResult result);

private:
    void fetch_loop();
    void ack_loop();
    int capacity() const;
    void flush_results(std::vector<JobResult>& results);
    void give_back(std::vector<queue::LeasedJob> jobs);

    WorkerOptions options_;
    const HandlerRegistry& handlers_;
    std::string worker_id_;

    // Redis connections: one per thread that talks to Redis. Declared before the threads
    // that use them, so they outlive those threads.
    queue::RedisConnection fetch_conn_;
    queue::RedisConnection ack_conn_;
    queue::RedisConnection control_conn_;
    std::mutex control_mutex_;  // guards control_conn_

    mutable std::mutex mutex_;  // guards buffer_, held_, running_ids_
    std::condition_variable work_cv_;   // a job was buffered, or quiet
    std::condition_variable room_cv_;   // a processor took a job, or quiet
    std::condition_variable idle_cv_;   // a processor finished a job
    std::deque<queue::LeasedJob> buffer_;
    std::unordered_map<std::string, queue::LeasedJob> held_;
    std::unordered_map<std::string, Processor*> running_ids_;
    int busy_ = 0;
    bool fetcher_waiting_ = false;  // the fetcher sleeps on room_cv_: wake it when room frees
    // The fetcher is in its blocking wait for work, the only command quiet() may cut short:
    // cutting a fetch short could lose the reply after Redis has leased the jobs.
    bool fetcher_blocking_ = false;

    std::mutex results_mutex_;
    std::condition_variable results_cv_;
    std::vector<JobResult> results_;
    bool acker_stop_ = false;
    bool acker_waiting_ = false;  // the acker sleeps on results_cv_

    std::atomic<bool> quiet_{false};
    std::atomic<long long> avg_job_us_;  // moving average of handler durations
    std::atomic<long long> processed_{0};
    std::atomic<long long> failed_{0};

    std::vector<std::unique_ptr<Processor>> processors_;
    std::thread fetcher_;
    std::thread acker_;
};

}  // namespace artistsaid::worker
