#include "cli/run_reconciler.hpp"

#include <spdlog/spdlog.h>

namespace artistsaid::cli {

RunReconciler::RunReconciler(runtime::RunEngine* engine, std::chrono::milliseconds interval) {
    if (engine == nullptr) return;
    thread_ = std::thread([this, engine, interval] {
        std::unique_lock lock(mutex_);
        do {
            lock.unlock();
            try {
                auto report = engine->reconcile();
                if (report.jobs_enqueued > 0)
                    spdlog::info("reconcile: {} run(s) checked, {} step job(s) enqueued",
                                 report.runs_checked, report.jobs_enqueued);
            } catch (const std::exception& e) {
                spdlog::warn("reconcile failed: {}", e.what());
            }
            lock.lock();
        } while (!cv_.wait_for(lock, interval, [this] { return stopping_; }));
    });
}

void RunReconciler::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

}  // namespace artistsaid::cli
