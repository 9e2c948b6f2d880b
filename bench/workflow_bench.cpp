#include "bench/workflow_bench.hpp"

#include "bench/bench_database.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <pqxx/pqxx>
#include <sstream>
#include <thread>

#include "engine/core/error.hpp"
#include "engine/core/id.hpp"
#include "engine/queue/redis_connection.hpp"
#include "engine/runtime/builtin_steps.hpp"
#include "engine/runtime/run_engine.hpp"
#include "engine/store/migrator.hpp"
#include "engine/workflow/validator.hpp"

extern char** environ;

namespace artistsaid::bench {
namespace {

using Clock = std::chrono::steady_clock;

const char* kLinear5 = R"(
name: bench-linear5
description: Five no-op steps in a row.
steps:
  - id: s1
    uses: log
    with: { message: s1, level: debug }
  - id: s2
    needs: [s1]
    uses: log
    with: { message: s2, level: debug }
  - id: s3
    needs: [s2]
    uses: log
    with: { message: s3, level: debug }
  - id: s4
    needs: [s3]
    uses: log
    with: { message: s4, level: debug }
  - id: s5
    needs: [s4]
    uses: log
    with: { message: s5, level: debug }
)";

const char* kLinear5Queued = R"(
name: bench-linear5-queued
description: Five no-op steps in a row, each one a queue job.
steps:
  - id: s1
    uses: noop
  - id: s2
    needs: [s1]
    uses: noop
  - id: s3
    needs: [s2]
    uses: noop
  - id: s4
    needs: [s3]
    uses: noop
  - id: s5
    needs: [s4]
    uses: noop
)";

const char* kFanout100 = R"(
name: bench-fanout100
description: One step, then a for_each of 100 no-op items.
steps:
  - id: split
    uses: collection.range
    with: { count: 100 }
  - id: each
    needs: [split]
    for_each: "${{ steps.split.outputs.items }}"
    max_parallel: 100
    uses: log
    with: { message: "item ${{ item }}", level: debug }
)";

const char* kForEach = R"(
name: bench-foreach
description: A for_each over N no-op items.
inputs:
  n: { type: integer, required: true }
steps:
  - id: range
    uses: collection.range
    with: { count: "${{ inputs.n }}" }
  - id: fan
    needs: [range]
    for_each: "${{ steps.range.outputs.items }}"
    max_parallel: MAX_PARALLEL
    uses: log
    with: { message: "item ${{ item }}", level: debug }
)";

// `artistsaid worker` of the same binary; SIGTERM and reaped on destruction.
class WorkerProcess {
public:
    WorkerProcess(const WorkflowBenchOptions& o, const std::string& database_url,
                  const std::string& prefix) {
        std::vector<std::string> args{o.worker_binary, "worker", "--queues", "workflows",
                                      "--concurrency", std::to_string(o.concurrency)};
        std::vector<std::string> env{"ARTISTSAID_DATABASE_URL=" + database_url,
                                     "ARTISTSAID_REDIS_URL=" + o.redis_url,
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
        std::this_thread::sleep_for(std::chrono::milliseconds(500));  // connected and idle
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
    WorkerProcess(const WorkerProcess&) = delete;
    WorkerProcess& operator=(const WorkerProcess&) = delete;
    pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
};

void delete_prefix(const std::string& redis_url, const std::string& prefix) {
    queue::RedisConnection conn(queue::RedisEndpoint::parse(redis_url), std::chrono::seconds(5),
                                std::chrono::seconds(30));
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

workflow::WorkflowDefinition compile(const workflow::StepCatalog& catalog, const std::string& yaml) {
    workflow::Validator validator(catalog);
    auto result = validator.validate(yaml, "bench.yaml");
    if (!result.ok())
        throw Error(ErrorCode::kInternal, "a benchmark workflow does not validate: " +
                                              result.diagnostics.render());
    return *result.definition;
}

// Waits until `count` runs of `workflow` finished; returns their span in seconds (first
// created → last finished, by the database's clock) and fails unless all succeeded.
double wait_for_runs(pqxx::connection& db, const std::string& workflow, long long count,
                     std::chrono::minutes limit) {
    auto deadline = Clock::now() + limit;
    for (;;) {
        pqxx::read_transaction tx(db);
        auto r = tx.exec_params1(
            "SELECT count(*) FILTER (WHERE status IN ('succeeded', 'failed', 'cancelled')), "
            "count(*) FILTER (WHERE status = 'succeeded'), "
            "coalesce(extract(epoch FROM max(finished_at) - min(created_at)), 0) "
            "FROM workflow_runs WHERE workflow_name = $1",
            workflow);
        long long done = r[0].as<long long>();
        if (done >= count) {
            if (r[1].as<long long>() != count)
                throw WorkError("bench: " + std::to_string(count - r[1].as<long long>()) +
                                " run(s) of " + workflow + " did not succeed");
            return r[2].as<double>();
        }
        if (Clock::now() > deadline)
            throw WorkError("bench: " + workflow + " did not finish within " +
                            std::to_string(limit.count()) + " minutes (" + std::to_string(done) +
                            " of " + std::to_string(count) + " runs)");
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

// Starts `runs` runs of `definition` from `starters` threads.
void start_runs(runtime::RunEngine& engine, const workflow::WorkflowDefinition& definition,
                const nlohmann::json& inputs, int runs, int starters) {
    std::atomic<int> next{0};
    std::atomic<bool> failed{false};
    std::string error;
    std::mutex error_mutex;
    std::vector<std::thread> threads;
    for (int t = 0; t < starters; ++t) {
        threads.emplace_back([&] {
            runtime::StartRequest request;
            request.inputs = inputs;
            request.trigger_kind = "api";
            while (!failed && next++ < runs) {
                try {
                    engine.start(definition, request);
                } catch (const std::exception& e) {
                    std::lock_guard lock(error_mutex);
                    error = e.what();
                    failed = true;
                }
            }
        });
    }
    for (auto& t : threads) t.join();
    if (failed) throw WorkError("bench: starting runs failed: " + error);
}

// CPU seconds (user + system) used so far by this process, by the PostgreSQL server (the
// postmaster of this connection's backend: its own time, that of its children it reaped
// — backends that exited — and that of its live children; read from /proc, so
// PostgreSQL must run on this machine, else -1) and by Redis (INFO cpu). All of the
// server's work is counted, including other databases' if anything else uses it.
struct CpuSample {
    double self = 0, postgres = 0, redis = 0;
};

// {ppid, utime + stime, cutime + cstime} in clock ticks, or ppid -1.
std::array<long long, 3> proc_times(long pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto close = text.rfind(')');
    if (close == std::string::npos || close + 2 >= text.size()) return {-1, 0, 0};
    std::istringstream fields(text.substr(close + 2));
    std::vector<long long> f;
    std::string field;
    for (int i = 3; i <= 17 && fields >> field; ++i)
        f.push_back(i == 3 ? 0 : std::stoll(field));  // field 3 is the state letter
    if (f.size() < 15) return {-1, 0, 0};
    return {f[1], f[11] + f[12], f[13] + f[14]};
}

double postgres_cpu_seconds(pqxx::connection& db) {
    long backend = 0;
    {
        pqxx::read_transaction tx(db);
        backend = tx.exec1("SELECT pg_backend_pid()")[0].as<long>();
    }
    const long long postmaster = proc_times(backend)[0];
    if (postmaster <= 0) return -1;
    auto own = proc_times(postmaster);
    long long ticks = own[1] + own[2];
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        const std::string name = entry.path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
        auto t = proc_times(std::stol(name));
        if (t[0] == postmaster) ticks += t[1];
    }
    return static_cast<double>(ticks) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

CpuSample cpu_sample(pqxx::connection& db, queue::RedisConnection& redis) {
    CpuSample s;
    auto self = proc_times(::getpid());
    s.self = static_cast<double>(self[1]) / static_cast<double>(::sysconf(_SC_CLK_TCK));
    s.postgres = postgres_cpu_seconds(db);
    std::string info = redis.command({"INFO", "cpu"}).view().string();
    for (const char* key : {"used_cpu_sys:", "used_cpu_user:"}) {
        auto at = info.find(key);
        if (at != std::string::npos) s.redis += std::stod(info.substr(at + std::strlen(key)));
    }
    return s;
}

nlohmann::json throughput_phase(runtime::RunEngine& engine, pqxx::connection& db,
                                const workflow::WorkflowDefinition& definition, int runs,
                                int starters, queue::RedisConnection& redis) {
    const CpuSample cpu_before = cpu_sample(db, redis);
    auto t = Clock::now();
    const auto batches_before = engine.start_batches();
    start_runs(engine, definition, nlohmann::json::object(), runs, starters);
    const auto batches_after = engine.start_batches();
    double start_seconds = std::chrono::duration<double>(Clock::now() - t).count();
    double seconds = wait_for_runs(db, definition.name, runs, std::chrono::minutes(15));
    const CpuSample cpu_after = cpu_sample(db, redis);
    auto per_run_ms = [runs](double before, double after) {
        return before < 0 || after < 0 ? -1.0 : (after - before) * 1000.0 / runs;
    };
    // Each run's latency (created → finished): small when starting runs is the bound,
    // growing when runs wait in the queue for the worker.
    pqxx::read_transaction tx(db);
    auto latency = tx.exec_params1(
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - "
        "created_at)) * 1000, max(extract(epoch FROM finished_at - created_at)) * 1000 "
        "FROM workflow_runs WHERE workflow_name = $1",
        definition.name);
    return {{"runs", runs},
            {"seconds", seconds},
            {"start_seconds", start_seconds},
            {"latency_p50_ms", latency[0].as<double>()},
            {"latency_max_ms", latency[1].as<double>()},
            // Group commit: transactions that started these runs (the rest shared one).
            {"start_transactions", batches_after.first - batches_before.first},
            // CPU per run of the bench process (which starts the runs), the PostgreSQL
            // server and Redis, from before the first start to the last run finished
            // (the worker process, idle in a phase of inline steps, is not counted).
            {"cpu_ms_per_run",
             {{"bench_process", per_run_ms(cpu_before.self, cpu_after.self)},
              {"postgres", per_run_ms(cpu_before.postgres, cpu_after.postgres)},
              {"redis", per_run_ms(cpu_before.redis, cpu_after.redis)}}},
            {"runs_per_s", seconds > 0 ? static_cast<long long>(runs / seconds) : 0}};
}

}  // namespace

nlohmann::json run_workflow_bench(const WorkflowBenchOptions& o) {
    if (o.runs < 10 || o.runs > 1'000'000) throw InputError("--runs must be 10..1000000");
    if (o.items < 0 || o.items > 100'000'000) throw InputError("--items must be 0..100000000");
    if (o.concurrency < 1 || o.concurrency > 1024)
        throw InputError("--concurrency must be 1..1024");
    if (o.max_parallel < 1 || o.max_parallel > 10'000)
        throw InputError("--max-parallel must be 1..10000");
    if (o.starters < 1 || o.starters > 256) throw InputError("--starters must be 1..256");

    BenchDatabase database(o.database_url, o.migrations_dir, "aa_bench_", "bench workflow");
    const std::string prefix = "bench-wf-" + new_id().substr(24);
    nlohmann::json out;
    out["cores"] = std::thread::hardware_concurrency();
    out["concurrency"] = o.concurrency;
    out["starters"] = o.starters;
    out["prefix"] = prefix;
    try {
        runtime::StepRegistry steps;
        runtime::register_builtin_steps(steps);
        const auto catalog = steps.catalog();
        runtime::RuntimeOptions ro;
        ro.database_url = database.url();
        ro.redis_url = o.redis_url;
        ro.queue_prefix = prefix;
        runtime::RunEngine engine(ro, steps);
        pqxx::connection db(database.url());
        {
            pqxx::read_transaction tx(db);
            out["postgres_version"] = tx.exec1("SHOW server_version")[0].as<std::string>();
        }

        {
            WorkerProcess worker(o, database.url(), prefix);
            out["worker_rss_idle_kib"] = proc_status_kib(worker.pid(), "VmRSS");
            // 1. Runs of a 5-step linear workflow of no-op steps.
            queue::RedisConnection redis(queue::RedisEndpoint::parse(o.redis_url),
                                         std::chrono::seconds(5), std::chrono::seconds(30));
            auto linear = throughput_phase(engine, db, compile(catalog, kLinear5), o.runs,
                                           o.starters, redis);
            out["linear5_runs"] = linear["runs"];
            out["linear5_seconds"] = linear["seconds"];
            out["linear5_runs_per_s"] = linear["runs_per_s"];
            out["linear5_start_seconds"] = linear["start_seconds"];
            out["linear5_latency_p50_ms"] = linear["latency_p50_ms"];
            out["linear5_latency_max_ms"] = linear["latency_max_ms"];
            out["linear5_start_transactions"] = linear["start_transactions"];
            out["linear5_steps_per_s"] = linear["runs_per_s"].get<long long>() * 5;
            out["linear5_cpu_ms_per_run"] = linear["cpu_ms_per_run"];
            // 1b. The same with `noop` steps: every step a queue job (claim, job, record).
            auto queued = throughput_phase(engine, db, compile(catalog, kLinear5Queued), o.runs,
                                           o.starters, redis);
            out["linear5_queued_runs_per_s"] = queued["runs_per_s"];
            out["linear5_queued_seconds"] = queued["seconds"];
            out["linear5_queued_latency_p50_ms"] = queued["latency_p50_ms"];
            out["linear5_queued_steps_per_s"] = queued["runs_per_s"].get<long long>() * 5;
            // 2. Runs of a 1→100 fan-out (one step, then a for_each of 100 no-op items).
            const int fanout_runs = std::max(10, o.runs / 10);
            auto fanout = throughput_phase(engine, db, compile(catalog, kFanout100), fanout_runs,
                                           o.starters, redis);
            out["fanout100_runs"] = fanout["runs"];
            out["fanout100_seconds"] = fanout["seconds"];
            out["fanout100_runs_per_s"] = fanout["runs_per_s"];
            out["fanout100_latency_p50_ms"] = fanout["latency_p50_ms"];
            out["fanout100_items_per_s"] = fanout["runs_per_s"].get<long long>() * 100;
        }

        // 3. One for_each over many no-op items, with a fresh worker for its peak RSS.
        out["foreach_items"] = o.items;
        out["foreach_max_parallel"] = o.max_parallel;
        if (o.items > 0) {
            std::string yaml = kForEach;
            yaml.replace(yaml.find("MAX_PARALLEL"), 12, std::to_string(o.max_parallel));
            auto definition = compile(catalog, yaml);
            WorkerProcess worker(o, database.url(), prefix);
            out["foreach_worker_rss_idle_kib"] = proc_status_kib(worker.pid(), "VmRSS");
            runtime::StartRequest request;
            request.inputs = {{"n", o.items}};
            request.trigger_kind = "api";
            auto run = engine.start(definition, request);
            double span = wait_for_runs(db, definition.name, 1, std::chrono::minutes(90));
            pqxx::read_transaction tx(db);
            auto fan = tx.exec_params1(
                "SELECT extract(epoch FROM finished_at - started_at) FROM step_runs "
                "WHERE run_id = $1::uuid AND step_id = 'fan' AND item_index = -1",
                run.run_id);
            double seconds = fan[0].as<double>();
            out["foreach_seconds"] = seconds;
            out["foreach_run_seconds"] = span;
            out["foreach_items_per_s"] = static_cast<long long>(o.items / seconds);
            out["foreach_peak_rss_kib"] = proc_status_kib(worker.pid(), "VmHWM");
        }
    } catch (...) {
        delete_prefix(o.redis_url, prefix);
        throw;
    }
    delete_prefix(o.redis_url, prefix);
    return out;
}

}  // namespace artistsaid::bench
