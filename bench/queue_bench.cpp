#include "bench/queue_bench.hpp"

#include "bench/bench_database.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "engine/core/error.hpp"
#include "engine/core/id.hpp"
#include "engine/queue/redis_queue.hpp"
#include "engine/worker/manager.hpp"
#include "engine/worker/worker_registry.hpp"

extern char** environ;

namespace artistsaid::bench {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

queue::RedisConnection connect(const std::string& url) {
    return queue::RedisConnection(queue::RedisEndpoint::parse(url), std::chrono::seconds(5),
                                  std::chrono::seconds(30));
}

void delete_prefix(queue::RedisConnection& conn, const std::string& prefix) {
    for (const std::string& pattern : {"{" + prefix + ":*", prefix + ":*"}) {
        std::string cursor = "0";
        do {
            auto reply = conn.command({"SCAN", cursor, "MATCH", pattern, "COUNT", "10000"});
            cursor = reply.view()[0].string();
            std::vector<std::string> del{"UNLINK"};
            for (size_t i = 0; i < reply.view()[1].size(); ++i)
                del.push_back(reply.view()[1][i].string());
            if (del.size() > 1) conn.command(del);
        } while (cursor != "0");
    }
}

queue::NewJob noop() {
    queue::NewJob j;
    j.type = "diag.noop";
    j.payload = "{}";
    return j;
}

// A worker process of the real binary; SIGTERM and reaped on destruction.
class WorkerProcess {
public:
    WorkerProcess(const QueueBenchOptions& o, const std::string& prefix, const std::string& queue) {
        std::vector<std::string> args{o.worker_binary, "worker", "--queues", queue,
                                      "--concurrency", std::to_string(o.concurrency)};
        std::vector<std::string> env{"ARTISTSAID_REDIS_URL=" + o.redis_url,
                                     "ARTISTSAID_QUEUE_PREFIX=" + prefix,
                                     "ARTISTSAID_LOG_LEVEL=warn", "ARTISTSAID_LOG_FORMAT=text"};
        for (char** e = environ; *e != nullptr; ++e)
            if (std::string(*e).rfind("ARTISTSAID_", 0) != 0) env.emplace_back(*e);
        std::vector<char*> argv, envp;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        for (auto& e : env) envp.push_back(e.data());
        envp.push_back(nullptr);
        if (posix_spawn(&pid_, o.worker_binary.c_str(), nullptr, nullptr, argv.data(),
                        envp.data()) != 0)
            throw WorkError("cannot start the worker process " + o.worker_binary);
    }
    ~WorkerProcess() {
        ::kill(pid_, SIGTERM);
        int status = 0;
        for (int i = 0; i < 500 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        if (::waitpid(pid_, &status, WNOHANG) == 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
        }
    }
    pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
};

// Redis's CPU time so far (user + system, main thread included), in seconds.
double redis_cpu_seconds(queue::RedisConnection& conn) {
    auto info = conn.command({"INFO", "cpu"}).view().string();
    double total = 0;
    for (const char* field : {"used_cpu_user:", "used_cpu_sys:"}) {
        auto at = info.find(field);
        if (at != std::string::npos) total += std::stod(info.substr(at + std::strlen(field)));
    }
    return total;
}

double percentile(std::vector<double>& sorted, double p) {
    if (sorted.empty()) return 0;
    size_t index = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
    return sorted[std::min(index, sorted.size() - 1)];
}

}  // namespace

nlohmann::json run_queue_bench(const QueueBenchOptions& o) {
    if (o.jobs < 1000 || o.jobs > 10'000'000) throw InputError("--jobs must be 1000..10000000");
    if (o.concurrency < 1 || o.concurrency > 1024)
        throw InputError("--concurrency must be 1..1024");
    const std::string prefix = "bench-" + new_id().substr(24);
    auto conn = connect(o.redis_url);
    queue::RedisQueue q(conn, prefix);
    nlohmann::json out;
    out["jobs"] = o.jobs;
    out["concurrency"] = o.concurrency;
    out["prefix"] = prefix;
    auto info = conn.command({"INFO", "server"}).view().string();
    if (auto at = info.find("redis_version:"); at != std::string::npos)
        out["redis_version"] = info.substr(at + 14, info.find('\r', at) - at - 14);

    try {
        // 1. Enqueue, one job per round trip.
        auto t = Clock::now();
        double cpu = redis_cpu_seconds(conn);
        for (int i = 0; i < o.single_jobs; ++i) q.enqueue("bench-single", noop());
        out["enqueue_single_per_s"] = static_cast<long long>(o.single_jobs / seconds_since(t));
        out["enqueue_single_redis_cpu_share"] = (redis_cpu_seconds(conn) - cpu) / seconds_since(t);

        // 2. Enqueue in batches of 1,000, into a paused queue the worker will drain.
        q.pause("bench");
        std::vector<queue::NewJob> batch(static_cast<size_t>(o.jobs), noop());
        t = Clock::now();
        cpu = redis_cpu_seconds(conn);
        q.enqueue_batch("bench", batch);  // pipelined chunks of 1,000
        out["enqueue_batch_per_s"] = static_cast<long long>(o.jobs / seconds_since(t));
        out["enqueue_batch_redis_cpu_share"] = (redis_cpu_seconds(conn) - cpu) / seconds_since(t);

        // 3. One real worker process drains them.
        WorkerProcess worker(o, prefix, "bench");
        worker::WorkerRegistry registry(conn, prefix);
        auto deadline = Clock::now() + std::chrono::seconds(30);
        while (registry.list().empty() && Clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        if (registry.list().empty()) throw WorkError("the worker process did not start");
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        out["rss_idle_kib"] = proc_status_kib(worker.pid(), "VmRSS");
        t = Clock::now();
        cpu = redis_cpu_seconds(conn);
        q.resume("bench");
        deadline = Clock::now() + std::chrono::minutes(15);
        long long processed = 0;
        while (Clock::now() < deadline) {
            processed = q.stats("bench").processed;
            if (processed >= o.jobs) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        double took = seconds_since(t);
        if (processed < o.jobs) throw WorkError("the worker did not finish within 15 minutes");
        out["process_per_s"] = static_cast<long long>(o.jobs / took);
        out["process_seconds"] = took;
        out["process_redis_cpu_share"] = (redis_cpu_seconds(conn) - cpu) / took;
        out["rss_peak_kib"] = proc_status_kib(worker.pid(), "VmHWM");
        out["rss_after_kib"] = proc_status_kib(worker.pid(), "VmRSS");
    } catch (...) {
        delete_prefix(conn, prefix);
        throw;
    }

    // 4. Enqueue→start latency at a fixed offered load, with an idle in-process worker.
    std::vector<double> latencies_ms;
    std::mutex latencies_mutex;
    worker::HandlerRegistry handlers;
    handlers.add("bench.latency", [&](const worker::JobContext& ctx) {
        auto sent = Clock::time_point(Clock::duration(ctx.payload.at("t").get<long long>()));
        double ms = std::chrono::duration<double, std::milli>(Clock::now() - sent).count();
        std::lock_guard lock(latencies_mutex);
        latencies_ms.push_back(ms);
    });
    worker::WorkerOptions wo;
    wo.redis_url = o.redis_url;
    wo.prefix = prefix;
    wo.queues = {"bench-latency"};
    wo.concurrency = 8;
    {
        worker::Manager manager(wo, handlers, "bench-latency-worker");
        manager.start();
        std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let it go idle
        auto period = std::chrono::nanoseconds(1'000'000'000LL / std::max(1, o.latency_rate));
        auto next = Clock::now();
        for (int i = 0; i < o.latency_jobs; ++i) {
            std::this_thread::sleep_until(next);
            next += period;
            queue::NewJob j;
            j.type = "bench.latency";
            j.payload = nlohmann::json{{"t", Clock::now().time_since_epoch().count()}}.dump();
            q.enqueue("bench-latency", j);
        }
        auto deadline = Clock::now() + std::chrono::seconds(30);
        for (;;) {
            {
                std::lock_guard lock(latencies_mutex);
                if (static_cast<int>(latencies_ms.size()) >= o.latency_jobs) break;
            }
            if (Clock::now() > deadline) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        manager.stop(Clock::now() + std::chrono::seconds(5));
    }
    std::sort(latencies_ms.begin(), latencies_ms.end());
    out["latency_jobs"] = latencies_ms.size();
    out["latency_offered_per_s"] = o.latency_rate;
    out["latency_p50_ms"] = percentile(latencies_ms, 0.50);
    out["latency_p99_ms"] = percentile(latencies_ms, 0.99);
    out["latency_p999_ms"] = percentile(latencies_ms, 0.999);
    out["latency_max_ms"] = latencies_ms.empty() ? 0.0 : latencies_ms.back();

    delete_prefix(conn, prefix);
    return out;
}

}  // namespace artistsaid::bench
