// The run-time as the CLI commands use it: options from the configuration, secrets from
// the environment, and the workflows of workflows_dir.
#pragma once

#include <memory>

#include "cli/command.hpp"
#include "engine/runtime/run_engine.hpp"
#include "engine/worker/worker_options.hpp"
#include "engine/workflow/workflow_directory.hpp"

namespace artistsaid::cli {

runtime::RuntimeOptions runtime_options(const Config& config);
std::unique_ptr<runtime::RunEngine> make_run_engine(const Config& config);
/// A worker's settings from the configuration (redis_url, queue.prefix, queue.lease,
/// connect_timeout, worker.queues, worker.concurrency, worker.grace); the caller applies
/// its own flags on top. InputError without a Redis URL.
worker::WorkerOptions worker_options(const Config& config);
/// "a,b,,c" → {"a", "b", "c"}.
std::vector<std::string> split_list(const std::string& text);
/// The valid workflow named `name` from workflows_dir (InputError with did-you-mean).
workflow::WorkflowDefinition load_workflow(const Config& config, const std::string& name);

}  // namespace artistsaid::cli
