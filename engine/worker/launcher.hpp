// The Launcher runs one worker process (Sidekiq's Launcher): it starts the Manager, then
// a housekeeping thread that renews the leases of every held job, writes the heartbeat,
// promotes due delayed jobs and reaps expired leases, and pings the systemd watchdog.
// On SIGTERM/SIGINT (or request_stop()) it shuts down quietly: stop fetching, give back
// unstarted jobs, let running jobs finish within the grace period, give back the rest at
// once (not after lease expiry), send STOPPING=1, remove the heartbeat.
// Thread-safety: run() on one thread; request_stop() from any thread or a signal thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>

#include "engine/worker/job_handler.hpp"
#include "engine/worker/worker_options.hpp"

namespace artistsaid::worker {

class Launcher {
public:
    Launcher(WorkerOptions options, const HandlerRegistry& handlers);

    /// Runs until stopped. With `handle_signals`, SIGTERM and SIGINT stop it (they must be
    /// blocked in every thread: call block_stop_signals() first thing in main()).
    /// Returns true if every job finished or was given back; false if a handler was still
    /// running at the end of the grace period (exit the process promptly).
    bool run(bool handle_signals);
    void request_stop();

    const std::string& worker_id() const { return worker_id_; }

    /// Blocks SIGTERM and SIGINT in the calling thread (and the threads it starts later).
    static void block_stop_signals();

private:
    WorkerOptions options_;
    const HandlerRegistry& handlers_;
    std::string worker_id_;
    std::mutex mutex_;
    std::condition_variable stop_cv_;
    std::atomic<bool> stop_requested_{false};
};

}  // namespace artistsaid::worker
