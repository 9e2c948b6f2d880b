#include "cli/runtime_access.hpp"

#include <sstream>

#include "cli/step_plugins.hpp"
#include "engine/core/error.hpp"
#include "engine/core/suggest.hpp"
#include "engine/workflow/validator.hpp"

namespace artistsaid::cli {

runtime::RuntimeOptions runtime_options(const Config& config) {
    runtime::RuntimeOptions o;
    o.database_url = config.database_url();
    o.redis_url = config.redis_url();
    if (o.database_url.empty())
        throw InputError("no database configured: set ARTISTSAID_DATABASE_URL or --database-url");
    if (o.redis_url.empty())
        throw InputError("no Redis configured: set ARTISTSAID_REDIS_URL or --redis-url");
    o.queue_prefix = config.get("queue.prefix");
    o.connect_timeout =
        std::chrono::duration_cast<std::chrono::seconds>(config.duration("connect_timeout"));
    runtime::load_env_and_secrets(o);
    configure_step_plugins(config);
    return o;
}

std::unique_ptr<runtime::RunEngine> make_run_engine(const Config& config) {
    auto engine = std::make_unique<runtime::RunEngine>(runtime_options(config), step_registry());
    // workflow.run finds child workflows where the CLI finds every workflow.
    engine->set_workflow_source(
        runtime::workflows_in_directory(config.get("workflows_dir"), step_registry()));
    return engine;
}

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> out;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ','))
        if (!item.empty()) out.push_back(item);
    return out;
}

worker::WorkerOptions worker_options(const Config& config) {
    worker::WorkerOptions o;
    o.redis_url = config.redis_url();
    if (o.redis_url.empty())
        throw InputError("no Redis configured: set ARTISTSAID_REDIS_URL or --redis-url");
    o.prefix = config.get("queue.prefix");
    o.lease = config.duration("queue.lease");
    o.connect_timeout = config.duration("connect_timeout");
    o.queues = split_list(config.get("worker.queues"));
    o.concurrency = static_cast<int>(config.integer("worker.concurrency"));
    o.grace = config.duration("worker.grace");
    return o;
}

workflow::WorkflowDefinition load_workflow(const Config& config, const std::string& name) {
    static const workflow::StepCatalog catalog = step_registry().catalog();
    workflow::Validator validator(catalog);
    auto dir = workflow::WorkflowDirectory::load(config.get("workflows_dir"), validator);
    if (const auto* found = dir.find(name)) return *found;
    std::string message = "no valid workflow named '" + name + "' in " + config.get("workflows_dir");
    if (auto hint = closest_match(name, dir.names())) message += " (did you mean '" + *hint + "'?)";
    if (!dir.invalid().empty())
        message += "; " + std::to_string(dir.invalid().size()) +
                   " file(s) there have errors: run 'artistsaid validate " +
                   config.get("workflows_dir") + "'";
    throw InputError(message, ErrorCode::kNotFound);
}

}  // namespace artistsaid::cli
