#include "engine/http/blocking_pool.hpp"

#include <spdlog/spdlog.h>

#include <exception>

namespace artistsaid::http {

BlockingPool::BlockingPool(std::size_t threads, std::size_t max_queued)
    : max_queued_(max_queued) {
    if (threads == 0) threads = 1;
    threads_.reserve(threads);
    for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this, i] { run(i); });
}

BlockingPool::~BlockingPool() { stop(); }

bool BlockingPool::submit(Task task) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ || tasks_.size() >= max_queued_) return false;
        tasks_.push_back(std::move(task));
    }
    wake_.notify_one();
    return true;
}

std::size_t BlockingPool::queued() const {
    std::lock_guard lock(mutex_);
    return tasks_.size();
}

void BlockingPool::stop() {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ && threads_.empty()) return;
        stopping_ = true;
        tasks_.clear();
    }
    wake_.notify_all();
    for (auto& t : threads_)
        if (t.joinable()) t.join();
    threads_.clear();
}

void BlockingPool::run(std::size_t index) {
    for (;;) {
        Task task;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
            if (tasks_.empty()) return;  // stopping
            task = std::move(tasks_.front());
            tasks_.pop_front();
        }
        try {
            task(index);
        } catch (const std::exception& e) {
            // Tasks answer their own errors; this is a bug, but it must not end the thread.
            spdlog::error("http worker task failed: {}", e.what());
        }
    }
}

}  // namespace artistsaid::http
