#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include "cli/commands/registry.hpp"
#include "cli/job_handlers.hpp"
#include "cli/run_reconciler.hpp"
#include "cli/runtime_access.hpp"
#include "engine/core/duration.hpp"
#include "engine/core/error.hpp"
#include "engine/worker/launcher.hpp"

namespace artistsaid::cli {
namespace {

int run_worker(Context& ctx) {
    // Before any thread starts, so SIGTERM reaches only the launcher's signal thread.
    worker::Launcher::block_stop_signals();
    worker::WorkerOptions options = worker_options(ctx.config);
    const auto& o = ctx.options;
    if (o.count("queues")) options.queues = split_list(o["queues"].as<std::string>());
    if (o.count("concurrency")) options.concurrency = o["concurrency"].as<int>();
    if (o.count("grace")) options.grace = parse_duration(o["grace"].as<std::string>());
    if (o.count("lease")) options.lease = parse_duration(o["lease"].as<std::string>());
    if (options.concurrency < 1 || options.concurrency > 4096)
        throw InputError("--concurrency must be 1..4096");

    worker::HandlerRegistry handlers;
    register_job_handlers(handlers);
    // With a database, the worker also runs workflow steps and reconciles runs.
    std::unique_ptr<runtime::RunEngine> engine;
    if (!ctx.config.database_url().empty()) {
        // --concurrency also bounds the steps' idle pooled connections.
        engine = make_run_engine(
            ctx.config.with("worker.concurrency", std::to_string(options.concurrency)));
        engine->register_handler(handlers);
    } else {
        spdlog::info("no database configured: running queue jobs only, no workflow steps");
    }
    worker::Launcher launcher(options, handlers);
    RunReconciler reconciler(engine.get(), ctx.config.duration("runtime.reconcile_interval"));
    bool clean = launcher.run(/*handle_signals=*/true);
    reconciler.stop();
    if (!clean) {
        // A handler is still running past the grace period; its job was given back.
        // Threads cannot be cancelled safely, so end the process here.
        std::cout.flush();
        std::fflush(nullptr);
        std::_Exit(0);
    }
    return 0;
}

}  // namespace

Command worker_command() {
    Command cmd;
    cmd.name = "worker";
    cmd.summary =
        "Run jobs from the queues until SIGTERM/SIGINT (systemd Type=notify with watchdog).";
    cmd.add_options = [](po::options_description& d) {
        d.add_options()("queues", po::value<std::string>()->value_name("LIST"),
                        "queues in priority order, comma-separated (default: worker.queues)")(
            "concurrency", po::value<int>()->value_name("N"),
            "jobs run at once (default: worker.concurrency)")(
            "grace", po::value<std::string>()->value_name("DURATION"),
            "on SIGTERM, time for running jobs to finish (default: worker.grace)")(
            "lease", po::value<std::string>()->value_name("DURATION"),
            "job lease (default: queue.lease)");
    };
    cmd.run = run_worker;
    return cmd;
}

}  // namespace artistsaid::cli
