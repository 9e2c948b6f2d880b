#include "cli/step_plugins.hpp"

#include <mutex>

#include "engine/runtime/builtin_steps.hpp"
#include "engine/store/database.hpp"
#include "plugins/billing/billing_steps.hpp"
#include "plugins/email/email_send_step.hpp"
#include "plugins/exec/exec_step.hpp"
#include "plugins/http/http_request_step.hpp"
#include "plugins/sms/sms_send_step.hpp"
#include "plugins/storage/storage_step.hpp"

namespace artistsaid::cli {
namespace {

struct PluginDatabase {
    std::mutex mutex;
    std::string url;
    std::chrono::seconds connect_timeout{5};
    std::chrono::milliseconds statement_timeout{std::chrono::minutes(5)};
};

PluginDatabase& plugin_database() {
    static PluginDatabase db;
    return db;
}

std::unique_ptr<pqxx::connection> connect_plugin_database() {
    auto& db = plugin_database();
    std::unique_lock lock(db.mutex);
    const std::string url = db.url;
    const auto connect_timeout = db.connect_timeout;
    const auto statement_timeout = db.statement_timeout;
    lock.unlock();
    return store::connect(url, connect_timeout, statement_timeout);
}

}  // namespace

void configure_step_plugins(const Config& config) {
    auto& db = plugin_database();
    std::lock_guard lock(db.mutex);
    db.url = config.database_url();
    db.connect_timeout =
        std::chrono::duration_cast<std::chrono::seconds>(config.duration("connect_timeout"));
    db.statement_timeout = config.duration("statement_timeout");
}

const runtime::StepRegistry& step_registry() {
    static const runtime::StepRegistry registry = [] {
        runtime::StepRegistry r;
        runtime::register_builtin_steps(r);
        billing::register_billing_steps(r, connect_plugin_database);
        // Step plugins (plugins/): settings and secrets from the process environment.
        const auto env = plugins::PluginEnvironment::from_process();
        using plugins::StorageStep;
        r.add(std::make_unique<plugins::HttpRequestStep>());
        r.add(std::make_unique<plugins::EmailSendStep>(env));
        r.add(std::make_unique<plugins::SmsSendStep>(env));
        r.add(std::make_unique<StorageStep>(StorageStep::Operation::kPut, env));
        r.add(std::make_unique<StorageStep>(StorageStep::Operation::kGet, env));
        r.add(std::make_unique<StorageStep>(StorageStep::Operation::kDelete, env));
        r.add(std::make_unique<StorageStep>(StorageStep::Operation::kPresign, env));
        r.add(std::make_unique<plugins::ExecStep>(env.get("ARTISTSAID_EXEC_DIR")));
        return r;
    }();
    return registry;
}

}  // namespace artistsaid::cli
