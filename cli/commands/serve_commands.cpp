// `artistsaid serve` (the HTTP server: webhooks, REST API, metrics, live updates) and
// `artistsaid apikeys create|list|revoke` (the keys the API accepts).
#include <signal.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/commands/registry.hpp"
#include "cli/runtime_access.hpp"
#include "cli/step_plugins.hpp"
#include "cli/stop_signals.hpp"
#include "cli/table.hpp"
#include "engine/core/error.hpp"
#include "engine/core/id.hpp"
#include "engine/http/api_key_store.hpp"
#include "engine/http/http_server.hpp"
#include "engine/http/live_updates.hpp"
#include "engine/http/serve_application.hpp"
#include "engine/store/database.hpp"
#include "engine/worker/systemd_notifier.hpp"
#include "engine/workflow/validator.hpp"

namespace artistsaid::cli {
namespace {

std::unique_ptr<pqxx::connection> database(const Context& ctx) {
    if (ctx.config.database_url().empty())
        throw InputError("no database configured: set ARTISTSAID_DATABASE_URL or --database-url");
    return store::connect(ctx.config.database_url(),
                          std::chrono::duration_cast<std::chrono::seconds>(
                              ctx.config.duration("connect_timeout")));
}

std::size_t positive(const Config& config, const char* key) {
    return static_cast<std::size_t>(config.integer(key));
}

http::ServerOptions server_options(const Context& ctx) {
    http::ServerOptions o;
    const auto& c = ctx.config;
    http::parse_listen(ctx.options.count("listen") ? ctx.options["listen"].as<std::string>()
                                                   : c.get("http.listen"),
                       o);
    o.max_body_bytes = positive(c, "http.max_body_bytes");
    o.max_header_bytes = positive(c, "http.max_header_bytes");
    o.read_timeout = c.duration("http.read_timeout");
    o.idle_timeout = c.duration("http.idle_timeout");
    o.write_timeout = c.duration("http.write_timeout");
    o.max_connections = static_cast<int>(c.integer("http.max_connections"));
    o.io_threads = static_cast<int>(c.integer("http.threads"));
    o.workers = static_cast<int>(c.integer("http.workers"));
    if (o.read_timeout.count() <= 0 || o.idle_timeout.count() <= 0 || o.write_timeout.count() <= 0)
        throw InputError("http timeouts must be positive");
    return o;
}

int serve(Context& ctx) {
    StopSignals signals;
    auto options = server_options(ctx);
    auto runtime_opts = runtime_options(ctx.config);  // secrets: env and $CREDENTIALS_DIRECTORY
    auto engine = make_run_engine(ctx.config);

    const std::string dir = ctx.config.get("workflows_dir");
    http::WorkflowLoader workflows = [dir] {
        static const workflow::StepCatalog catalog = step_registry().catalog();
        workflow::Validator validator(catalog);
        return workflow::WorkflowDirectory::load(dir, validator);
    };
    workflows();  // a missing workflows_dir is a configuration error: say so now

    http::WebhookSettings hooks;
    hooks.tolerance = std::chrono::duration_cast<std::chrono::seconds>(
        ctx.config.duration("http.webhook_tolerance"));
    hooks.paypal_api_url = ctx.config.get("http.paypal_api_url");
    hooks.paypal_verification = ctx.config.get("http.paypal_verification");
    hooks.paypal_cert_url_prefixes = split_list(ctx.config.get("http.paypal_cert_url_prefixes"));
    hooks.paypal_ca_file = ctx.config.get("http.paypal_ca_file");
    hooks.secrets = runtime_opts.secrets;
    http::WebhookVerifiers verifiers(hooks);

    http::ConnectionSettings cs;
    cs.database_url = runtime_opts.database_url;
    cs.redis_url = runtime_opts.redis_url;
    cs.connect_timeout = runtime_opts.connect_timeout;
    cs.statement_timeout = std::min(ctx.config.duration("statement_timeout"),
                                    std::chrono::milliseconds(std::chrono::seconds(30)));
    http::WorkerConnections connections(cs, static_cast<std::size_t>(options.workers));

    http::ServeSettings settings;
    settings.queue_prefix = runtime_opts.queue_prefix;
    settings.public_url = ctx.config.get("http.public_url");
    settings.rate_limit = static_cast<int>(ctx.config.integer("http.rate_limit"));
    settings.rate_burst = static_cast<int>(ctx.config.integer("http.rate_burst"));

    // The live-update thread looks up runs (workflow, status) on its own connection, by
    // primary key (a run id that is not a UUID is no run).
    auto lookup_db = std::make_shared<std::unique_ptr<pqxx::connection>>();
    http::LiveUpdates live(
        queue::RedisEndpoint::parse(runtime_opts.redis_url), runtime_opts.queue_prefix + ":runs",
        [lookup_db, cs](const std::string& run) -> http::LiveUpdates::RunInfo {
            if (!Uuid::parse(run)) return {};
            auto& c = *lookup_db;
            if (!c || !c->is_open()) c = store::connect(cs.database_url, cs.connect_timeout);
            pqxx::read_transaction tx(*c);
            auto r = tx.exec_params(
                "SELECT workflow_name, status FROM workflow_runs WHERE id = $1::uuid", run);
            if (r.empty()) return {};
            return {r[0][0].as<std::string>(), r[0][1].as<std::string>()};
        });

    http::HttpServer* server_ptr = nullptr;
    http::ServeApplication app(settings, connections, *engine, workflows, verifiers,
                               [&server_ptr] { return server_ptr ? server_ptr->connections() : 0; });
    http::HttpServer server(options, app, &live);
    server_ptr = &server;
    server.start();
    live.start();

    auto endpoint = server.local_endpoint();
    std::string address = endpoint.address().is_v6() ? "[" + endpoint.address().to_string() + "]"
                                                     : endpoint.address().to_string();
    address += ":" + std::to_string(endpoint.port());
    std::string served;
    for (const auto& s : verifiers.served()) served += (served.empty() ? "" : ", ") + s;
    ctx.out << "listening on http://" << address << '\n';
    ctx.out.flush();
    spdlog::info("serving on http://{} (webhooks: {})", address, served.empty() ? "none" : served);

    worker::SystemdNotifier notifier;
    notifier.notify("READY=1\nSTATUS=serving on " + address);
    const auto sweep_every = std::chrono::seconds(15);
    auto next_sweep = std::chrono::steady_clock::now() + sweep_every;
    for (;;) {
        auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(sweep_every);
        if (auto wd = notifier.watchdog_interval())
            wait = std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(*wd));
        if (signals.wait(wait)) break;
        // The watchdog is fed only while the event loop really runs handlers.
        if (notifier.watchdog_interval() && server.responsive(std::chrono::seconds(1)))
            notifier.notify("WATCHDOG=1");
        if (std::chrono::steady_clock::now() >= next_sweep) {
            next_sweep = std::chrono::steady_clock::now() + sweep_every;
            server.pool().submit([&app](std::size_t worker) { app.sweep(worker); });
        }
    }
    notifier.notify("STOPPING=1\nSTATUS=finishing requests in progress");
    spdlog::info("stopping: finishing requests in progress");
    server.stop(ctx.config.duration("http.shutdown_grace"));
    live.stop();
    spdlog::info("stopped");
    return 0;
}

int apikeys_create(Context& ctx) {
    if (!ctx.options.count("role"))
        throw InputError("apikeys create needs --role admin|operator|readonly", ErrorCode::kUsage);
    auto role = http::parse_role(ctx.options["role"].as<std::string>());
    std::string name = ctx.options.count("name") ? ctx.options["name"].as<std::string>() : "";
    auto conn = database(ctx);
    auto created = http::ApiKeyStore::create(*conn, role, name, "cli");
    if (ctx.json) {
        ctx.out << nlohmann::json{{"id", created.key.id}, {"name", created.key.name},
                                  {"prefix", created.key.prefix},
                                  {"role", http::to_string(created.key.role)},
                                  {"key", created.secret}}
                       .dump()
                << '\n';
        return 0;
    }
    ctx.out << "created API key " << created.key.id << " (" << http::to_string(role) << ", "
            << created.key.name << ")\n"
            << created.secret << '\n'
            << "Store it now: it is not shown again (only its hash is kept).\n";
    return 0;
}

int apikeys_list(Context& ctx) {
    auto conn = database(ctx);
    auto keys = http::ApiKeyStore::list(*conn);
    if (ctx.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& k : keys)
            out.push_back({{"id", k.id}, {"name", k.name}, {"prefix", k.prefix},
                           {"role", http::to_string(k.role)}, {"created_at", k.created_at},
                           {"last_used_at", k.last_used_at}, {"revoked_at", k.revoked_at}});
        ctx.out << out.dump(2) << '\n';
        return 0;
    }
    Table table({"ID", "NAME", "PREFIX", "ROLE", "CREATED", "LAST USED", "REVOKED"});
    for (const auto& k : keys)
        table.add_row({std::to_string(k.id), k.name, k.prefix, std::string(http::to_string(k.role)),
                       k.created_at, k.last_used_at, k.revoked_at});
    table.print(ctx.out);
    return 0;
}

int apikeys_revoke(Context& ctx) {
    const std::string& id = ctx.args.at(0);
    if (id.empty() || id.size() > 18 ||
        !std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; }))
        throw InputError("'" + id + "' is not an API key id (see 'artistsaid apikeys list')");
    auto conn = database(ctx);
    if (!http::ApiKeyStore::revoke(*conn, std::stoll(id), "cli"))
        throw InputError("no live API key " + id, ErrorCode::kNotFound);
    ctx.out << "revoked API key " << id << '\n';
    return 0;
}

}  // namespace

Command serve_command() {
    Command cmd;
    cmd.name = "serve";
    cmd.summary =
        "Serve webhooks (/hooks/*), the REST API (/api/v1), /healthz, /readyz, /metrics and "
        "live updates (/ws) until SIGTERM/SIGINT (systemd Type=notify with watchdog).";
    cmd.add_options = [](po::options_description& d) {
        d.add_options()("listen", po::value<std::string>()->value_name("HOST:PORT"),
                        "address to listen on (default http.listen, 127.0.0.1:8080; port 0: any "
                        "free port, printed)");
    };
    cmd.run = serve;
    return cmd;
}

Command apikeys_commands() {
    Command group;
    group.name = "apikeys";
    group.summary = "API keys for the REST API and /ws: created with a role, stored hashed.";
    Command create;
    create.name = "create";
    create.summary = "Create a key and print it once (only its SHA-256 is stored).";
    create.add_options = [](po::options_description& d) {
        d.add_options()("role", po::value<std::string>()->value_name("ROLE"),
                        "admin, operator or readonly (required)")(
            "name", po::value<std::string>()->value_name("NAME"), "a label for people");
    };
    create.run = apikeys_create;
    Command list;
    list.name = "list";
    list.summary = "Every key with its prefix, role, last use and revocation (never the key).";
    list.run = apikeys_list;
    Command revoke;
    revoke.name = "revoke";
    revoke.summary = "Revoke a key: requests with it are refused from now on.";
    revoke.args_usage = "ID";
    revoke.min_args = revoke.max_args = 1;
    revoke.run = apikeys_revoke;
    group.children = {create, list, revoke};
    return group;
}

}  // namespace artistsaid::cli
