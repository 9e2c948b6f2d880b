// Live run and step updates for WebSocket clients: one thread subscribes to the Redis
// channel the run-time publishes on (RunEngine::publish: "<prefix>:runs"), adds the run's
// workflow name to each message and hands it to every subscriber.
//
// The run-time publishes step updates and run.started/cancelling/retried, but a run's end
// is committed inside the transaction that settles its last step (or cancels it), so it is
// announced here: after an update that may have ended the run (a step settled, a cancel),
// the run's status is read — that transaction has committed before its updates were
// published — and a finished run gets one `run.succeeded`, `run.failed` or
// `run.cancelled` update. Only while someone is subscribed (one primary-key read per
// such update).
//
// Best effort, like any pub/sub: an update published while the subscription reconnects
// (Redis restarted, or 30 s passed without a message) is not delivered; PostgreSQL
// (GET /api/v1/runs/{id}) stays the truth. Thread-safety: add() and stop() from any
// thread; subscribers are called on the subscription thread and must not block.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "engine/queue/redis_connection.hpp"

namespace artistsaid::http {

class LiveSubscriber {
public:
    virtual ~LiveSubscriber() = default;
    /// `message` is the JSON text sent to clients; `run` and `workflow` are for filtering.
    virtual void deliver(const std::shared_ptr<const std::string>& message, const std::string& run,
                         const std::string& workflow) = 0;
};

class LiveUpdates {
public:
    /// What the live updates need to know of a run; called on the subscription thread only.
    struct RunInfo {
        std::string workflow;  // "" if the run is unknown
        std::string status;    // workflow_runs.status
    };
    using RunLookup = std::function<RunInfo(const std::string& run_id)>;

    LiveUpdates(queue::RedisEndpoint redis, std::string channel, RunLookup lookup);
    ~LiveUpdates();
    LiveUpdates(const LiveUpdates&) = delete;
    LiveUpdates& operator=(const LiveUpdates&) = delete;

    void start();
    void stop();
    void add(std::weak_ptr<LiveSubscriber> subscriber);
    /// True once the subscription is live (tests wait for it before publishing).
    bool subscribed() const noexcept { return subscribed_.load(); }

private:
    void run();
    void publish(const std::string& payload);
    std::string workflow_of(const std::string& run);
    /// The run's end, if `kind` may have ended it and it has ended: "run.succeeded", …
    std::optional<std::string> end_of(const std::string& run, const std::string& kind);
    void deliver(const std::shared_ptr<const std::string>& text, const std::string& run,
                 const std::string& workflow);

    queue::RedisEndpoint redis_;
    std::string channel_;
    RunLookup lookup_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> subscribed_{false};
    std::mutex mutex_;  // guards subscribers_, connection_ and the wake-up
    std::condition_variable wake_;
    std::vector<std::weak_ptr<LiveSubscriber>> subscribers_;
    queue::RedisConnection* connection_ = nullptr;  // the live subscription, for interrupt()
    std::unordered_map<std::string, std::string> workflows_;  // run → workflow (bounded)
    std::unordered_set<std::string> ended_;  // runs whose end was announced (bounded)
    std::thread thread_;
};

}  // namespace artistsaid::http
