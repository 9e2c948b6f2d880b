#include "engine/worker/manager.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "engine/core/error.hpp"

namespace artistsaid::worker {
namespace {

queue::RedisConnection make_connection(const WorkerOptions& o) {
    return queue::RedisConnection(queue::RedisEndpoint::parse(o.redis_url), o.connect_timeout,
                                  o.command_timeout);
}

// Waits before retrying after Redis failed, doubling up to a few seconds.
class Backoff {
public:
    std::chrono::milliseconds next() {
        auto d = delay_;
        delay_ = std::min(delay_ * 2, std::chrono::milliseconds(5000));
        return d;
    }
    void reset() { delay_ = std::chrono::milliseconds(100); }

private:
    std::chrono::milliseconds delay_{100};
};

}  // namespace

Manager::Manager(WorkerOptions options, const HandlerRegistry& handlers, std::string worker_id)
    : options_(std::move(options)),
      handlers_(handlers),
      worker_id_(std::move(worker_id)),
      fetch_conn_(make_connection(options_)),
      ack_conn_(make_connection(options_)),
      control_conn_(make_connection(options_)),
      avg_job_us_(options_.prefetch_window.count()) {
    if (options_.concurrency < 1) throw InputError("concurrency must be at least 1");
    if (options_.queues.empty()) throw InputError("a worker needs at least one queue");
    for (const auto& q : options_.queues) queue::check_queue_name(q);
    if (options_.lease < std::chrono::milliseconds(100))
        throw InputError("the lease must be at least 100ms");
}

Manager::~Manager() {
    if (fetcher_.joinable() || acker_.joinable()) {
        quiet();
        stop(std::chrono::steady_clock::now());
    }
}

void Manager::start() {
    for (int i = 0; i < options_.concurrency; ++i) {
        processors_.push_back(std::make_unique<Processor>(*this, handlers_));
        processors_.back()->start();
    }
    acker_ = std::thread([this] { ack_loop(); });
    fetcher_ = std::thread([this] { fetch_loop(); });
}

int Manager::capacity() const {
    // Prefetch about `prefetch_window` of work at the average job duration.
    long long avg = std::max<long long>(1, avg_job_us_.load(std::memory_order_relaxed));
    long long prefetch = options_.concurrency * options_.prefetch_window.count() / avg;
    prefetch = std::clamp<long long>(prefetch, 0, options_.max_prefetch);
    return options_.concurrency + static_cast<int>(prefetch);
}

int Manager::busy() const {
    std::lock_guard lock(mutex_);
    return busy_;
}

std::vector<queue::LeasedJob> Manager::held_jobs() const {
    std::lock_guard lock(mutex_);
    std::vector<queue::LeasedJob> out;
    out.reserve(held_.size());
    for (const auto& [id, job] : held_) out.push_back(job);
    return out;
}

void Manager::leases_lost(const std::vector<std::string>& ids) {
    std::lock_guard lock(mutex_);
    for (const auto& id : ids) {
        if (auto it = running_ids_.find(id); it != running_ids_.end()) it->second->request_stop();
    }
}

void Manager::fetch_loop() {
    queue::RedisQueue queue(fetch_conn_, options_.prefix);
    Backoff backoff;
    while (!quiet_) {
        int room;
        {
            std::unique_lock lock(mutex_);
            fetcher_waiting_ = true;
            room_cv_.wait(lock, [&] {
                return quiet_ || static_cast<int>(buffer_.size()) + busy_ < capacity();
            });
            fetcher_waiting_ = false;
            if (quiet_) break;
            room = capacity() - static_cast<int>(buffer_.size()) - busy_;
        }
        try {
            size_t got = 0;
            std::optional<std::chrono::milliseconds> next_due;
            for (const auto& name : options_.queues) {
                if (room <= 0) break;
                auto result = queue.fetch(name, room, options_.lease, worker_id_);
                if (result.next_due && (!next_due || *result.next_due < *next_due))
                    next_due = result.next_due;
                if (result.jobs.empty()) continue;
                got += result.jobs.size();
                room -= static_cast<int>(result.jobs.size());
                {
                    std::lock_guard lock(mutex_);
                    for (auto& job : result.jobs) {
                        held_.emplace(job.id, job);
                        buffer_.push_back(std::move(job));
                    }
                }
                work_cv_.notify_all();
            }
            backoff.reset();
            if (got == 0) {
                {
                    std::lock_guard lock(mutex_);
                    if (quiet_) break;
                    fetcher_blocking_ = true;
                }
                auto block = options_.max_idle_block;
                if (next_due) block = std::clamp(*next_due, std::chrono::milliseconds(1), block);
                queue.wait_for_work(options_.queues, block);
                std::lock_guard lock(mutex_);
                fetcher_blocking_ = false;
            }
        } catch (const Error& e) {
            {
                std::lock_guard lock(mutex_);
                fetcher_blocking_ = false;
            }
            if (quiet_) break;
            auto pause = backoff.next();
            spdlog::warn("worker {}: fetching failed, retrying in {} ms: {}", worker_id_,
                         pause.count(), e.what());
            std::unique_lock lock(mutex_);
            room_cv_.wait_for(lock, pause, [&] { return quiet_.load(); });
        }
    }
}

std::optional<queue::LeasedJob> Manager::take(Processor& processor) {
    std::unique_lock lock(mutex_);
    work_cv_.wait(lock, [&] { return quiet_ || !buffer_.empty(); });
    if (quiet_) return std::nullopt;
    queue::LeasedJob job = std::move(buffer_.front());
    buffer_.pop_front();
    ++busy_;
    running_ids_[job.id] = &processor;
    return job;
}

void Manager::finished(JobResult result) {
    // Moving average over ~16 jobs, in integer microseconds.
    long long us = std::max<long long>(1, result.duration.count());
    long long avg = avg_job_us_.load(std::memory_order_relaxed);
    avg_job_us_.store(avg + (us - avg) / 16, std::memory_order_relaxed);
    bool wake_fetcher;
    {
        std::lock_guard lock(mutex_);
        --busy_;
        running_ids_.erase(result.job.id);
        wake_fetcher = fetcher_waiting_;
    }
    // Notifying costs a system call when someone waits; only wake who needs it.
    if (wake_fetcher) room_cv_.notify_one();
    if (quiet_) idle_cv_.notify_all();
    bool wake_acker;
    {
        std::lock_guard lock(results_mutex_);
        results_.push_back(std::move(result));
        wake_acker = acker_waiting_;
    }
    if (wake_acker) results_cv_.notify_one();
}

void Manager::ack_loop() {
    queue::RedisQueue queue(ack_conn_, options_.prefix);
    Backoff backoff;
    std::vector<JobResult> batch;
    for (;;) {
        {
            std::unique_lock lock(results_mutex_);
            acker_waiting_ = true;
            results_cv_.wait(lock, [&] { return acker_stop_ || !results_.empty() || !batch.empty(); });
            acker_waiting_ = false;
            for (auto& r : results_) batch.push_back(std::move(r));
            results_.clear();
            if (batch.empty() && acker_stop_) return;
        }
        try {
            flush_results(batch);
            backoff.reset();
        } catch (const Error& e) {
            auto pause = backoff.next();
            spdlog::warn("worker {}: acknowledging {} job(s) failed, retrying in {} ms: {}",
                         worker_id_, batch.size(), pause.count(), e.what());
            std::unique_lock lock(results_mutex_);
            // At shutdown give up after one retry round: unacknowledged jobs are delivered
            // again when their leases expire (at-least-once).
            if (acker_stop_ && pause > std::chrono::milliseconds(400)) return;
            results_cv_.wait_for(lock, pause);
        }
    }
}

void Manager::flush_results(std::vector<JobResult>& results) {
    std::vector<queue::LeasedJob> done;
    for (const auto& r : results)
        if (r.kind == JobResult::Kind::kDone) done.push_back(r.job);
    queue::RedisQueue queue(ack_conn_, options_.prefix);
    if (!done.empty()) queue.ack(done);
    // Failures one by one: each carries its own error; they are the rare path.
    size_t flushed_failures = 0;
    try {
        for (auto& r : results) {
            if (r.kind == JobResult::Kind::kDone) continue;
            std::optional<std::chrono::milliseconds> delay;
            if (r.kind == JobResult::Kind::kRetry) delay = r.delay;
            auto outcome = queue.fail(r.job, r.error, r.error_kind, delay);
            if (outcome == queue::FailOutcome::kDead) {
                ++failed_;
                spdlog::warn("job {} ({}) is dead after attempt {}: {}", r.job.id, r.job.type,
                             r.job.attempt, r.error);
            } else if (outcome == queue::FailOutcome::kRetry) {
                spdlog::info("job {} ({}) failed attempt {}, retrying in {} ms: {}", r.job.id,
                             r.job.type, r.job.attempt, r.delay.count(), r.error);
            }
            r.kind = JobResult::Kind::kDone;  // handled: not sent again if a later one throws
            ++flushed_failures;
        }
    } catch (...) {
        // Keep the unsent failures for the retry; the acknowledged ones are done.
        std::vector<JobResult> rest;
        for (auto& r : results)
            if (r.kind != JobResult::Kind::kDone) rest.push_back(std::move(r));
        processed_ += static_cast<long long>(done.size());
        {
            std::lock_guard lock(mutex_);
            for (const auto& j : done) held_.erase(j.id);
        }
        results = std::move(rest);
        throw;
    }
    processed_ += static_cast<long long>(done.size());
    {
        std::lock_guard lock(mutex_);
        for (const auto& r : results) held_.erase(r.job.id);
    }
    results.clear();
}

void Manager::give_back(std::vector<queue::LeasedJob> jobs) {
    if (jobs.empty()) return;
    std::lock_guard lock(control_mutex_);
    try {
        queue::RedisQueue queue(control_conn_, options_.prefix);
        int n = queue.release(jobs);
        spdlog::info("worker {}: gave {} job(s) back to the queue", worker_id_, n);
    } catch (const Error& e) {
        spdlog::warn("worker {}: could not give {} job(s) back ({}); they run again when their "
                     "leases expire",
                     worker_id_, jobs.size(), e.what());
    }
    std::lock_guard held_lock(mutex_);
    for (const auto& j : jobs) held_.erase(j.id);
}

void Manager::quiet() {
    if (quiet_.exchange(true)) return;
    {
        // Only the idle wait is cut short; a fetch in flight finishes (milliseconds) and its
        // jobs are buffered, then given back below.
        std::lock_guard lock(mutex_);
        if (fetcher_blocking_) fetch_conn_.interrupt();
    }
    work_cv_.notify_all();
    room_cv_.notify_all();
    if (fetcher_.joinable()) fetcher_.join();
    std::vector<queue::LeasedJob> unstarted;
    {
        std::lock_guard lock(mutex_);
        unstarted.assign(std::make_move_iterator(buffer_.begin()),
                         std::make_move_iterator(buffer_.end()));
        buffer_.clear();
    }
    give_back(std::move(unstarted));
}

bool Manager::stop(std::chrono::steady_clock::time_point deadline) {
    quiet();
    std::vector<Processor*> stuck;
    {
        std::unique_lock lock(mutex_);
        idle_cv_.wait_until(lock, deadline, [&] { return busy_ == 0; });
        for (auto& [id, processor] : running_ids_) {
            processor->request_stop();
            stuck.push_back(processor);
        }
    }
    {
        std::lock_guard lock(results_mutex_);
        acker_stop_ = true;
    }
    results_cv_.notify_all();
    if (acker_.joinable()) acker_.join();

    // Whatever is still held now is running past the deadline (or its ack failed):
    // give it back so another worker can start it immediately.
    std::vector<queue::LeasedJob> unfinished = held_jobs();
    give_back(std::move(unfinished));

    for (auto& p : processors_) {
        if (std::find(stuck.begin(), stuck.end(), p.get()) != stuck.end())
            p->detach();
        else
            p->join();
    }
    return stuck.empty();
}

}  // namespace artistsaid::worker
