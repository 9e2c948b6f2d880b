#include <unistd.h>

#include <climits>
#include <nlohmann/json.hpp>
#include <ostream>

#include "bench/billing_bench.hpp"
#include "bench/queue_bench.hpp"
#include "bench/workflow_bench.hpp"
#include "cli/commands/registry.hpp"
#include "engine/core/error.hpp"

namespace artistsaid::cli {
namespace {

std::string self_path() {
    char buf[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) throw WorkError("cannot find the artistsaid binary (/proc/self/exe)");
    return std::string(buf, static_cast<size_t>(n));
}

int bench_queue(Context& ctx) {
    bench::QueueBenchOptions o;
    o.redis_url = ctx.config.redis_url();
    if (o.redis_url.empty()) throw InputError("no Redis configured: set ARTISTSAID_REDIS_URL");
    o.worker_binary = self_path();
    if (ctx.options.count("jobs")) o.jobs = ctx.options["jobs"].as<int>();
    if (ctx.options.count("concurrency")) o.concurrency = ctx.options["concurrency"].as<int>();
    auto result = bench::run_queue_bench(o);
    if (ctx.json) {
        ctx.out << result.dump() << '\n';
        return 0;
    }
    for (const auto& [key, value] : result.items()) ctx.out << key << ": " << value << '\n';
    return 0;
}

int bench_workflow(Context& ctx) {
    bench::WorkflowBenchOptions o;
    o.database_url = ctx.config.database_url();
    o.redis_url = ctx.config.redis_url();
    if (o.database_url.empty())
        throw InputError("no database configured: set ARTISTSAID_DATABASE_URL");
    if (o.redis_url.empty()) throw InputError("no Redis configured: set ARTISTSAID_REDIS_URL");
    o.migrations_dir = ctx.config.get("migrations_dir");
    o.worker_binary = self_path();
    if (ctx.options.count("runs")) o.runs = ctx.options["runs"].as<int>();
    if (ctx.options.count("items")) o.items = ctx.options["items"].as<long long>();
    if (ctx.options.count("concurrency")) o.concurrency = ctx.options["concurrency"].as<int>();
    if (ctx.options.count("max-parallel")) o.max_parallel = ctx.options["max-parallel"].as<int>();
    if (ctx.options.count("starters")) o.starters = ctx.options["starters"].as<int>();
    auto result = bench::run_workflow_bench(o);
    if (ctx.json) {
        ctx.out << result.dump() << '\n';
        return 0;
    }
    for (const auto& [key, value] : result.items()) ctx.out << key << ": " << value << '\n';
    return 0;
}

int bench_billing(Context& ctx) {
    bench::BillingBenchOptions o;
    o.database_url = ctx.config.database_url();
    if (o.database_url.empty())
        throw InputError("no database configured: set ARTISTSAID_DATABASE_URL");
    o.migrations_dir = ctx.config.get("migrations_dir");
    if (ctx.options.count("subscriptions"))
        o.subscriptions = ctx.options["subscriptions"].as<long long>();
    if (ctx.options.count("clients")) o.clients = ctx.options["clients"].as<long long>();
    if (ctx.options.count("no-charges")) o.charges = false;
    if (ctx.options.count("charge-threads")) {
        o.charge_threads = ctx.options["charge-threads"].as<int>();
        if (o.charge_threads < 1 || o.charge_threads > 256)
            throw InputError("--charge-threads must be 1..256");
    }
    if (ctx.options.count("charge-batch")) o.charge_batch = ctx.options["charge-batch"].as<int>();
    if (ctx.options.count("partitions")) o.partitions = ctx.options["partitions"].as<int>();
    auto result = bench::run_billing_bench(o);
    if (ctx.json) {
        ctx.out << result.dump() << '\n';
        return 0;
    }
    for (const auto& [key, value] : result.items()) ctx.out << key << ": " << value << '\n';
    return 0;
}

}  // namespace

Command bench_commands() {
    Command group;
    group.name = "bench";
    group.summary = "Benchmarks against the configured services (see bench/RESULTS.md).";
    Command q;
    q.name = "queue";
    q.summary =
        "Enqueue throughput (single, batched), no-op jobs through one worker process, "
        "enqueue→start latency at 1,000 jobs/s, worker RSS.";
    q.add_options = [](po::options_description& d) {
        d.add_options()("jobs", po::value<int>()->value_name("N"),
                        "jobs for the throughput run (200000)")(
            "concurrency", po::value<int>()->value_name("C"), "of the worker process (8)");
    };
    q.run = bench_queue;
    Command w;
    w.name = "workflow";
    w.summary =
        "Runs/s of a 5-step linear no-op workflow and of a 1→100 fan-out, and time and worker "
        "peak RSS of a 1,000,000-item for_each, through one worker process (a private "
        "database and key prefix, removed afterwards).";
    w.add_options = [](po::options_description& d) {
        d.add_options()("runs", po::value<int>()->value_name("N"),
                        "linear5 runs (2000); the fan-out phase runs N/10")(
            "items", po::value<long long>()->value_name("N"),
            "items of the for_each phase (1000000; 0 skips it)")(
            "concurrency", po::value<int>()->value_name("C"), "of the worker process (8)")(
            "max-parallel", po::value<int>()->value_name("M"), "of the for_each phase (64)")(
            "starters", po::value<int>()->value_name("S"),
            "threads starting runs at once (4); concurrent starts share commits");
    };
    w.run = bench_workflow;
    Command b;
    b.name = "billing";
    b.summary =
        "Seeds N active subscriptions by COPY into a private database and bills them through "
        "the real invoice generation (tax, credit, ledger), charges every invoice with a balance "
        "through the real charger and the sandbox gateway, then verifies the ledger.";
    b.add_options = [](po::options_description& d) {
        d.add_options()("subscriptions", po::value<long long>()->value_name("N"),
                        "subscriptions to seed and bill (100000)")(
            "clients", po::value<long long>()->value_name("N"), "clients (subscriptions / 2)")(
            "charge-threads", po::value<int>()->value_name("N"), "charges (or batches) at once (8)")(
            "charge-batch", po::value<int>()->value_name("N"),
            "invoices per batch charge (500); 0: one charge per invoice (the single path)")(
            "partitions", po::value<int>()->value_name("P"),
            "client partitions invoiced one after another, each charged while the next is "
            "invoiced (1: invoice all, then charge)")(
            "no-charges", "invoice only");
    };
    b.run = bench_billing;
    group.children = {q, w, b};
    return group;
}

}  // namespace artistsaid::cli
