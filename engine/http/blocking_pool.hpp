// The threads that run blocking work (libpqxx, hiredis, libcurl) for the HTTP server, so
// the Asio threads never wait on a database. Each task gets the index of the thread that
// runs it, so callers can keep one connection per thread without locks.
//
// Bounded: submit() refuses work when `max_queued` tasks already wait (the server answers
// 503 rather than queueing without limit). stop() lets the running tasks finish, drops
// the queued ones' and joins the threads.
// Thread-safety: submit() and stop() may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace artistsaid::http {

class BlockingPool {
public:
    using Task = std::function<void(std::size_t worker)>;

    BlockingPool(std::size_t threads, std::size_t max_queued);
    ~BlockingPool();
    BlockingPool(const BlockingPool&) = delete;
    BlockingPool& operator=(const BlockingPool&) = delete;

    /// Queues `task`; false if the queue is full or the pool is stopping.
    bool submit(Task task);
    void stop();

    std::size_t size() const noexcept { return threads_.size(); }
    std::size_t queued() const;

private:
    void run(std::size_t index);

    std::size_t max_queued_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Task> tasks_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace artistsaid::http
