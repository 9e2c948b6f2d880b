// One processor: a thread that takes a leased job from its Manager, runs the job's
// handler, and hands the outcome back (Sidekiq's Processor). A handler's exception fails
// that job under its retry policy and never the processor: unknown job types and
// malformed payloads go straight to the dead set with a clear error.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "engine/queue/job.hpp"
#include "engine/worker/job_handler.hpp"

namespace artistsaid::worker {

class Manager;

struct JobResult {
    enum class Kind { kDone, kRetry, kDead };
    queue::LeasedJob job;
    Kind kind = Kind::kDone;
    std::string error;
    std::string error_kind;            // "error", "invalid_input", "unknown_type", …
    std::chrono::milliseconds delay{0};  // for kRetry
    std::chrono::microseconds duration{0};
};

class Processor {
public:
    Processor(Manager& manager, const HandlerRegistry& handlers);
    ~Processor();
    Processor(const Processor&) = delete;
    Processor& operator=(const Processor&) = delete;

    void start();
    /// Asks the running handler to wrap up (grace period over or lease lost).
    void request_stop() { should_stop_ = true; }
    bool busy() const { return busy_; }
    /// Waits for the thread to end (it ends once the manager is quiet and it is idle).
    void join();
    /// Lets a thread stuck in a handler go; the process must exit soon after.
    void detach();

    /// Runs one job through its handler and decides the outcome (no Redis involved).
    static JobResult process(const queue::LeasedJob& job, const HandlerRegistry& handlers,
                             const std::atomic<bool>& should_stop);

private:
    void run();

    Manager& manager_;
    const HandlerRegistry& handlers_;
    std::atomic<bool> should_stop_{false};
    std::atomic<bool> busy_{false};
    std::thread thread_;
};

}  // namespace artistsaid::worker
