#include "engine/worker/launcher.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <thread>

#include "engine/core/error.hpp"
#include "engine/core/id.hpp"
#include "engine/worker/manager.hpp"
#include "engine/worker/systemd_notifier.hpp"
#include "engine/worker/worker_registry.hpp"

namespace artistsaid::worker {
namespace {

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string host_name() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
    return buf;
}

std::string join(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : ",") + p;
    return out;
}

}  // namespace

Launcher::Launcher(WorkerOptions options, const HandlerRegistry& handlers)
    : options_(std::move(options)),
      handlers_(handlers),
      worker_id_(host_name() + ":" + std::to_string(::getpid()) + ":" + new_id().substr(24)) {}

void Launcher::block_stop_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void Launcher::request_stop() {
    {
        std::lock_guard lock(mutex_);
        stop_requested_ = true;
    }
    stop_cv_.notify_all();
}

bool Launcher::run(bool handle_signals) {
    if (handle_signals) block_stop_signals();  // before any thread starts: they inherit it
    SystemdNotifier systemd;
    Manager manager(options_, handlers_, worker_id_);
    auto connection = [&] {
        return queue::RedisConnection(queue::RedisEndpoint::parse(options_.redis_url),
                                      options_.connect_timeout, options_.command_timeout);
    };
    queue::RedisConnection house_conn = connection();
    queue::RedisQueue house_queue(house_conn, options_.prefix);
    WorkerRegistry registry(house_conn, options_.prefix);

    WorkerInfo info;
    info.id = worker_id_;
    info.host = host_name();
    info.pid = static_cast<int>(::getpid());
    info.queues = options_.queues;
    info.concurrency = options_.concurrency;
    info.started_ms = now_ms();
    auto beat = [&] {
        info.busy = manager.busy();
        info.beat_ms = now_ms();
        info.quiet = manager.is_quiet();
        info.processed = manager.processed();
        info.failed = manager.failed();
        registry.beat(info, options_.heartbeat * 3);
    };

    // Check Redis before claiming readiness: a wrong URL fails here with exit 3.
    beat();
    manager.start();
    systemd.notify("READY=1\nSTATUS=processing " + join(options_.queues));
    spdlog::info("worker {} started: queues {}, concurrency {}, lease {} ms", worker_id_,
                 join(options_.queues), options_.concurrency, options_.lease.count());

    std::thread signals;
    if (handle_signals) {
        signals = std::thread([this] {
            sigset_t set;
            sigemptyset(&set);
            sigaddset(&set, SIGTERM);
            sigaddset(&set, SIGINT);
            timespec tick{0, 200'000'000};
            while (!stop_requested_) {
                int sig = sigtimedwait(&set, nullptr, &tick);
                if (sig == SIGTERM || sig == SIGINT) {
                    spdlog::info("worker {}: received {}, shutting down", worker_id_,
                                 sig == SIGTERM ? "SIGTERM" : "SIGINT");
                    request_stop();
                }
            }
        });
    }

    // Housekeeping until asked to stop.
    using clock = std::chrono::steady_clock;
    auto renew_every = options_.lease / 3;
    auto next_renew = clock::now() + renew_every;
    auto next_beat = clock::now() + options_.heartbeat;
    auto next_poll = clock::now() + std::chrono::seconds(1);
    auto watchdog = systemd.watchdog_interval();
    auto next_watchdog = clock::now();
    for (;;) {
        auto wake = std::min({next_renew, next_beat, next_poll});
        if (watchdog) wake = std::min(wake, next_watchdog);
        {
            std::unique_lock lock(mutex_);
            if (stop_cv_.wait_until(lock, wake, [&] { return stop_requested_.load(); })) break;
        }
        auto now = clock::now();
        try {
            if (now >= next_renew) {
                next_renew = now + renew_every;
                auto held = manager.held_jobs();
                if (!held.empty()) {
                    auto lost = house_queue.renew(held, options_.lease);
                    if (!lost.empty()) {
                        spdlog::warn("worker {}: lost the lease of {} job(s); they may run "
                                     "twice",
                                     worker_id_, lost.size());
                        manager.leases_lost(lost);
                    }
                }
            }
            if (now >= next_beat) {
                next_beat = now + options_.heartbeat;
                beat();
            }
            if (now >= next_poll) {
                next_poll = now + std::chrono::seconds(1);
                for (const auto& q : options_.queues)
                    house_queue.fetch(q, 0, options_.lease, worker_id_);  // reap and promote
            }
        } catch (const Error& e) {
            spdlog::warn("worker {}: housekeeping failed: {}", worker_id_, e.what());
        }
        if (watchdog && now >= next_watchdog) {
            next_watchdog = now + *watchdog;
            systemd.notify("WATCHDOG=1");
        }
    }

    systemd.notify("STOPPING=1\nSTATUS=draining");
    auto deadline = clock::now() + options_.grace;
    spdlog::info("worker {}: stopping; running jobs have {} ms to finish", worker_id_,
                 options_.grace.count());
    manager.quiet();
    try {
        beat();  // show "quiet" in `queue workers` while draining
    } catch (const Error&) {
    }
    // Keep renewing leases while running jobs drain, so none is delivered twice meanwhile.
    std::atomic<bool> drained{false};
    std::thread renewer([&] {
        auto last = clock::now();
        while (!drained) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            if (drained || clock::now() - last < renew_every) continue;
            last = clock::now();
            try {
                auto held = manager.held_jobs();
                if (!held.empty()) house_queue.renew(held, options_.lease);
            } catch (const Error&) {
            }
        }
    });
    bool clean = manager.stop(deadline);
    drained = true;
    renewer.join();
    try {
        registry.remove(worker_id_);
    } catch (const Error&) {
    }
    if (signals.joinable()) signals.join();
    spdlog::info("worker {} stopped ({} processed, {} dead){}", worker_id_, manager.processed(),
                 manager.failed(), clean ? "" : "; some handlers were still running");
    return clean;
}

}  // namespace artistsaid::worker
