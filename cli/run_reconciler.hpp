// RunReconciler: RunEngine::reconcile() on its own thread — once at start (a restarted
// worker picks up what Redis lost), then every `interval` — until stopped. Used by
// `artistsaid worker` and by the demo's in-process workers.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "engine/runtime/run_engine.hpp"

namespace artistsaid::cli {

class RunReconciler {
public:
    /// Does nothing when `engine` is null (a worker without a database).
    RunReconciler(runtime::RunEngine* engine, std::chrono::milliseconds interval);
    ~RunReconciler() { stop(); }
    RunReconciler(const RunReconciler&) = delete;
    RunReconciler& operator=(const RunReconciler&) = delete;
    void stop();

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace artistsaid::cli
