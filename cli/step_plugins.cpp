#include "cli/step_plugins.hpp"

#include <cstdlib>
#include <mutex>

#include "engine/runtime/builtin_steps.hpp"
#include "engine/runtime/run_engine.hpp"
#include "gateways/gateway_setup.hpp"
#include "engine/store/connection_pool.hpp"
#include "engine/store/database.hpp"
#include "plugins/billing/billing_steps.hpp"
#include "plugins/common/plugin_environment.hpp"
#include "plugins/documents/render_invoice_step.hpp"
#include "plugins/email/email_send_step.hpp"
#include "plugins/exec/exec_step.hpp"
#include "plugins/http/http_request_step.hpp"
#include "plugins/sms/sms_send_step.hpp"
#include "plugins/storage/storage_step.hpp"
#include "plugins/payments/payments_steps.hpp"

namespace artistsaid::cli {
namespace {

// The step plugins' database: one ConnectionPool per process, so a step's connection goes
// back to the pool when the step is done with it and the next step reuses it (no new backend
// per step call). It keeps at most worker.concurrency idle connections — one per job the
// process runs at once; a step holding two at a time has the second closed when given back.
struct PluginDatabase {
    std::mutex mutex;
    std::string url;
    std::chrono::seconds connect_timeout{5};
    std::chrono::milliseconds statement_timeout{std::chrono::minutes(5)};
    std::size_t max_idle = 8;
    // Made on first use; replaced (leases of the old one are closed when given back) when
    // configure_step_plugins() changes the settings.
    std::shared_ptr<store::ConnectionPool> pool;
};

PluginDatabase& plugin_database() {
    static PluginDatabase db;
    return db;
}

store::ConnectionPool::Lease connect_plugin_database() {
    auto& db = plugin_database();
    std::unique_lock lock(db.mutex);
    if (!db.pool)
        db.pool = std::make_shared<store::ConnectionPool>(db.url, db.max_idle, db.statement_timeout);
    const auto pool = db.pool;
    const auto connect_timeout = db.connect_timeout;
    lock.unlock();
    return pool->acquire(connect_timeout);
}

std::string plugin_database_url() {
    auto& db = plugin_database();
    std::lock_guard lock(db.mutex);
    return db.url;
}

// The payment gateways, built on first use from ARTISTSAID_GATEWAYS_FILE or gateways.file (the sandbox alone
// when unset) and the secrets, like `artistsaid payments reconcile` builds them.
const gateways::GatewayRegistry& plugin_gateways() {
    static std::mutex mutex;
    static std::unique_ptr<gateways::GatewayRegistry> registry;
    std::lock_guard lock(mutex);
    if (!registry) {
        // $ARTISTSAID_GATEWAYS_FILE, else the configuration file's gateways.file.
        auto file = plugins::PluginEnvironment::from_process().get("ARTISTSAID_GATEWAYS_FILE");
        nlohmann::json settings =
            file ? gateways::load_gateway_settings(*file) : nlohmann::json::object();
        runtime::RuntimeOptions secrets_holder;
        runtime::load_env_and_secrets(secrets_holder);
        auto built = std::make_unique<gateways::GatewayRegistry>();
        gateways::register_gateways(*built, settings, secrets_holder.secrets,
                                    plugin_database_url());
        registry = std::move(built);
    }
    return *registry;
}

}  // namespace

void configure_step_plugins(const Config& config) {
    auto& db = plugin_database();
    std::lock_guard lock(db.mutex);
    const std::string url = config.database_url();
    const auto statement_timeout = config.duration("statement_timeout");
    const auto max_idle = static_cast<std::size_t>(config.integer("worker.concurrency"));
    if (url != db.url || statement_timeout != db.statement_timeout || max_idle != db.max_idle)
        db.pool.reset();
    db.url = url;
    db.connect_timeout =
        std::chrono::duration_cast<std::chrono::seconds>(config.duration("connect_timeout"));
    db.statement_timeout = statement_timeout;
    db.max_idle = max_idle;
}

store::ConnectionPool::Lease connect_step_database() { return connect_plugin_database(); }

const runtime::StepRegistry& step_registry() {
    static const runtime::StepRegistry registry = [] {
        runtime::StepRegistry r;
        runtime::register_builtin_steps(r);
        billing::register_billing_steps(r, connect_plugin_database);
        // Step plugins (plugins/): settings from the environment over the configuration file,
        // secrets from the environment or credentials.
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
        r.add(std::make_unique<plugins::RenderInvoiceStep>(connect_plugin_database, env));
        payments::register_payments_steps(
            r, {connect_plugin_database, plugin_database_url, plugin_gateways});
        return r;
    }();
    return registry;
}

}  // namespace artistsaid::cli
