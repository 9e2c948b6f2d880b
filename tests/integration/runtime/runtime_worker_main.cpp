// A worker process for the run-time's integration tests: the real Launcher and RunEngine,
// the built-in steps and the test steps of test_steps.hpp.
// Arguments: key=value pairs for redis, db, prefix, concurrency, lease_ms, reconcile_ms,
// workflows (a directory of child workflows for workflow.run).
#include <csignal>
#include <map>
#include <string>
#include <thread>

#include "engine/core/logging.hpp"
#include "engine/runtime/builtin_steps.hpp"
#include "engine/runtime/run_engine.hpp"
#include "engine/worker/launcher.hpp"
#include "tests/integration/runtime/test_steps.hpp"

using namespace artistsaid;

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);  // as the CLI does (cli/main.cpp)
    std::map<std::string, std::string> args;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto eq = a.find('=');
        if (eq != std::string::npos) args[a.substr(0, eq)] = a.substr(eq + 1);
    }
    worker::Launcher::block_stop_signals();
    logging::init({"warn", "text"});
    const std::string db_url = args["db"];

    runtime::StepRegistry steps;
    runtime::register_builtin_steps(steps);
    test::register_test_steps(steps, db_url);

    runtime::RuntimeOptions ro;
    ro.database_url = db_url;
    ro.redis_url = args["redis"];
    ro.queue_prefix = args["prefix"];
    runtime::RunEngine engine(ro, steps);
    if (args.count("workflows"))
        engine.set_workflow_source(runtime::workflows_in_directory(args["workflows"], steps));

    worker::WorkerOptions wo;
    wo.redis_url = args["redis"];
    wo.prefix = args["prefix"];
    wo.queues = {"workflows"};
    if (args.count("concurrency")) wo.concurrency = std::stoi(args["concurrency"]);
    if (args.count("lease_ms")) wo.lease = std::chrono::milliseconds(std::stoi(args["lease_ms"]));
    worker::HandlerRegistry handlers;
    engine.register_handler(handlers);

    std::atomic<bool> stop{false};
    std::thread reconciler;
    if (args.count("reconcile_ms")) {
        auto every = std::chrono::milliseconds(std::stoi(args["reconcile_ms"]));
        reconciler = std::thread([&] {
            while (!stop) {
                try {
                    engine.reconcile();
                } catch (const std::exception&) {
                }
                auto until = std::chrono::steady_clock::now() + every;
                while (!stop && std::chrono::steady_clock::now() < until)
                    std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
        });
    }
    worker::Launcher launcher(wo, handlers);
    bool clean = launcher.run(true);
    stop = true;
    if (reconciler.joinable()) reconciler.join();
    if (!clean) std::_Exit(0);
    return 0;
}
