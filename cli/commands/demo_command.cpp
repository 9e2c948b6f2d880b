// `artistsaid demo`: the main job end to end on demo data. Starts (or reuses) private
// PostgreSQL and Redis under ./var/demo when no ARTISTSAID_*_URL is set, migrates, seeds
// examples/demo data once, runs workers in this process, runs workflows/billing-cycle.yaml
// through the real queue, and prints what happened. `--down` stops the demo's servers.
#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <ostream>
#include <thread>

#include "cli/commands/registry.hpp"
#include "cli/demo/demo_services.hpp"
#include "cli/demo/demo_summary.hpp"
#include "cli/job_handlers.hpp"
#include "cli/run_reconciler.hpp"
#include "cli/runtime_access.hpp"
#include "cli/step_plugins.hpp"
#include "engine/core/duration.hpp"
#include "engine/core/error.hpp"
#include "engine/core/logging.hpp"
#include "engine/store/database.hpp"
#include "engine/store/migrator.hpp"
#include "engine/worker/launcher.hpp"
#include "plugins/billing/billing_period.hpp"
#include "plugins/billing/seed_generator.hpp"

namespace artistsaid::cli {
namespace {

constexpr auto kServicesTimeout = std::chrono::seconds(180);

// Sets an environment variable the step plugins read, unless the operator set it.
void default_env(const char* name, const std::string& value) {
    const char* current = std::getenv(name);
    if (current == nullptr || *current == '\0') ::setenv(name, value.c_str(), 1);
}

std::string today_utc() {
    const auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
    return billing::format_date(billing::Date{today});
}

struct Seeded {
    bool now = false;
    std::string as_of;
    nlohmann::json counts;
};

// Seeds once per database: the audit_log row 'demo.seed', written in the seed's own
// transaction under an advisory lock, says it happened and for which day.
Seeded seed_once(pqxx::connection& conn, Context& ctx, const std::string& as_of_option) {
    const auto& o = ctx.options;
    pqxx::work tx(conn);
    tx.exec("SELECT pg_advisory_xact_lock(hashtext('artistsaid.demo.seed'))");
    auto rows = tx.exec("SELECT details::text FROM audit_log WHERE action = 'demo.seed' ORDER BY id LIMIT 1");
    Seeded s;
    if (!rows.empty()) {
        auto details = nlohmann::json::parse(rows[0][0].as<std::string>());
        s.as_of = details.value("as_of", "");
        s.counts = details.value("counts", nlohmann::json::object());
        return s;
    }
    billing::SeedOptions so;
    s.as_of = as_of_option.empty() ? today_utc() : as_of_option;
    so.as_of = billing::parse_date(s.as_of, "--as-of");
    so.clients = o.count("clients") ? o["clients"].as<long long>() : 300;
    so.subscriptions = o.count("subscriptions") ? o["subscriptions"].as<long long>() : 2 * so.clients;
    if (so.clients < 1 || so.clients > 100000) throw InputError("--clients must be 1..100000");
    if (so.subscriptions < 0 || so.subscriptions > 1000000) throw InputError("--subscriptions must be 0..1000000");
    ctx.err << "demo: seeding " << so.clients << " clients and " << so.subscriptions
            << " subscriptions due around " << s.as_of << "\n";
    s.counts = billing::SeedGenerator().load(tx, so);
    tx.exec_params0(
        "INSERT INTO audit_log (actor, action, subject, details) VALUES ('cli:demo', 'demo.seed', "
        "'examples/demo', $1::jsonb)",
        nlohmann::json{{"as_of", s.as_of}, {"counts", s.counts}}.dump());
    tx.commit();
    s.now = true;
    return s;
}

// Waits for the run to end, showing progress on stderr; the run's final status.
std::string wait_for_run(pqxx::connection& conn, const std::string& run_id,
                         std::chrono::milliseconds timeout, std::ostream& err) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string last;
    while (true) {
        pqxx::read_transaction tx(conn);
        auto r = tx.exec_params1(
            "SELECT r.status, (SELECT count(*) FROM step_runs s WHERE s.run_id = r.id AND "
            "s.status IN ('succeeded', 'skipped', 'continued', 'failed', 'cancelled')), "
            "(SELECT count(*) FROM step_runs s WHERE s.run_id = r.id) "
            "FROM workflow_runs r WHERE r.id = $1::uuid",
            run_id);
        tx.commit();
        const std::string status = r[0].as<std::string>();
        std::string line = "demo: run " + run_id + " " + status + ", " + r[1].as<std::string>() + " of " +
                           r[2].as<std::string>() + " step executions finished";
        if (line != last) {
            err << line << "\n";
            last = line;
        }
        if (status == "succeeded" || status == "failed" || status == "cancelled") return status;
        if (std::chrono::steady_clock::now() >= deadline)
            throw UnavailableError("demo: the billing cycle did not finish within " +
                                   format_duration(timeout) + " (run " + run_id +
                                   "; it continues with the next worker)");
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
}

int demo(Context& ctx) {
    const auto& o = ctx.options;
    const std::string dir = o.count("dir") ? o["dir"].as<std::string>() : "var/demo";
    DemoServices services(std::string(ARTISTSAID_DATA_DIR) + "/scripts/services.sh", dir);
    if (o.count("down")) {
        const int status = services.down(kServicesTimeout);
        if (status != 0) throw UnavailableError("demo: stopping the servers in " + dir + " failed");
        ctx.out << "demo: servers in " << dir << " stopped; their data is kept for the next run\n";
        return 0;
    }
    std::string as_of_option;
    if (o.count("as-of")) {
        as_of_option = o["as-of"].as<std::string>();
        (void)billing::parse_date(as_of_option, "--as-of");
    }
    const int concurrency = o.count("concurrency") ? o["concurrency"].as<int>() : 8;
    if (concurrency < 1 || concurrency > 256) throw InputError("--concurrency must be 1..256");
    const auto timeout = parse_duration(o.count("timeout") ? o["timeout"].as<std::string>() : "10m");

    // The demo's own progress goes to stderr; the engine's info logs only if asked for.
    if (ctx.config.source("log.level") == ConfigSource::kDefault)
        logging::init({"warn", ctx.config.get("log.format")});
    Config config = ctx.config;
    const bool have_db = !config.database_url().empty(), have_redis = !config.redis_url().empty();
    if (have_db != have_redis)
        throw InputError("demo: set both ARTISTSAID_DATABASE_URL and ARTISTSAID_REDIS_URL, or neither "
                         "(to use the demo's own servers in " + dir + ")");
    std::string where = "the configured servers";
    if (!have_db) {
        auto urls = services.up(kServicesTimeout);
        config = config.with("database_url", urls.database_url).with("redis_url", urls.redis_url);
        where = "the demo's servers in " + dir + " (stop them with: artistsaid demo --down)";
    }
    // Where the demo's documents and mail go, unless configured otherwise.
    const auto files = std::filesystem::absolute(dir);
    default_env("ARTISTSAID_STORAGE_DIR", (files / "storage").string());
    if (const char* smtp = std::getenv("ARTISTSAID_SMTP_URL"); smtp == nullptr || *smtp == '\0')
        default_env("ARTISTSAID_EMAIL_OUTBOX_DIR", (files / "outbox").string());
    default_env("ARTISTSAID_EMAIL_FROM", "billing@artistsaid.example");
    default_env("ARTISTSAID_EMAIL_FROM_NAME", "ArtistsAid Billing");
    // The in-process worker's concurrency also bounds the steps' idle pooled connections.
    config = config.with("worker.concurrency", std::to_string(concurrency));
    configure_step_plugins(config);

    const auto connect_timeout =
        std::chrono::duration_cast<std::chrono::seconds>(config.duration("connect_timeout"));
    auto applied = store::Migrator(config.database_url(), config.get("migrations_dir"), connect_timeout).up();
    ctx.err << "demo: using " << where << "; " << applied.size() << " migration(s) applied now\n";
    auto conn = store::connect(config.database_url(), connect_timeout, config.duration("statement_timeout"));
    const Seeded seeded = seed_once(*conn, ctx, as_of_option);
    const std::string as_of = as_of_option.empty() ? seeded.as_of : as_of_option;
    if (!seeded.now)
        ctx.err << "demo: reusing the data seeded for " << seeded.as_of << "\n";

    // Workers in this process: the production step registration, the real queue.
    worker::WorkerOptions wo = worker_options(config);
    wo.concurrency = concurrency;
    wo.grace = std::chrono::seconds(10);
    worker::HandlerRegistry handlers;
    register_job_handlers(handlers);
    auto engine = make_run_engine(config);
    engine->register_handler(handlers);
    worker::Launcher launcher(wo, handlers);
    std::thread worker_thread([&] { launcher.run(/*handle_signals=*/false); });
    RunReconciler reconciler(engine.get(), config.duration("runtime.reconcile_interval"));
    struct StopWorkers {
        worker::Launcher& launcher;
        std::thread& thread;
        RunReconciler& reconciler;
        ~StopWorkers() {
            reconciler.stop();
            launcher.request_stop();
            if (thread.joinable()) thread.join();
        }
    } stop_workers{launcher, worker_thread, reconciler};

    runtime::StartRequest request;
    // Nothing else charges in the demo, so unknown outcomes are looked up at once.
    request.inputs = {{"as_of", as_of}, {"reconcile_min_age", "0s"}, {"dry_run", o.count("dry-run") > 0}};
    request.trigger_kind = "cli";
    request.trigger_ref = "demo";
    auto started = engine->start(load_workflow(config, "billing-cycle"), request);
    ctx.err << "demo: billing cycle for " << as_of << " started: run " << started.run_id
            << (started.pending ? " (waiting for an earlier billing-cycle run to finish)" : "") << "\n";
    const std::string status = wait_for_run(*conn, started.run_id, timeout, ctx.err);

    auto summary = collect_demo_summary(*conn, started.run_id);
    summary["data"] = {{"seeded_now", seeded.now}, {"seeded_for", seeded.as_of}, {"counts", seeded.counts}};
    summary["files"] = {{"documents", std::getenv("ARTISTSAID_STORAGE_DIR")},
                        {"outbox", std::getenv("ARTISTSAID_EMAIL_OUTBOX_DIR")
                                       ? std::getenv("ARTISTSAID_EMAIL_OUTBOX_DIR")
                                       : "(SMTP)"}};
    const bool ok = status == "succeeded" && summary["ledger"]["verified"].get<bool>();
    if (ctx.json) {
        ctx.out << summary.dump() << '\n';
        return ok ? 0 : 1;
    }
    if (o.count("dry-run")) {
        print_demo_summary(ctx.out, summary);
        return ok ? 0 : 1;
    }
    const auto& counts = seeded.counts;
    ctx.out << "ArtistsAid demo: " << counts.value("clients", 0LL) << " clients (artists, broadcasters, "
            << "journalists, photographers), " << counts.value("subscriptions", 0LL)
            << " subscriptions in USD, EUR and JPY, " << counts.value("marketplace_orders", 0LL)
            << " marketplace orders; seeded " << (seeded.now ? "now" : "earlier") << " for " << seeded.as_of << "\n";
    print_demo_summary(ctx.out, summary);
    ctx.out << "\nDocuments are in " << summary["files"]["documents"].get<std::string>() << ", emails in "
            << summary["files"]["outbox"].get<std::string>() << ".\n"
            << "Run it again: nothing new is invoiced or charged. `artistsaid demo --down` stops the servers.\n";
    return ok ? 0 : 1;
}

}  // namespace

Command demo_command() {
    Command cmd;
    cmd.name = "demo";
    cmd.summary =
        "Run the billing cycle on demo data (own PostgreSQL + Redis under var/demo unless "
        "ARTISTSAID_*_URL are set).";
    cmd.add_options = [](po::options_description& d) {
        d.add_options()("as-of", po::value<std::string>()->value_name("DATE"),
                        "the billing day (default: the day the data was seeded for, first: today)")(
            "clients", po::value<long long>()->value_name("N"), "clients to seed the first time (300)")(
            "subscriptions", po::value<long long>()->value_name("N"),
            "subscriptions to seed the first time (2 per client)")(
            "concurrency", po::value<int>()->value_name("N"), "jobs the in-process worker runs at once (8)")(
            "timeout", po::value<std::string>()->value_name("DURATION"), "longest wait for the cycle (10m)")(
            "dir", po::value<std::string>()->value_name("DIR"),
            "where the demo's servers, documents and mail live (var/demo)")(
            "dry-run", "show what the cycle would invoice and charge (same code path), write nothing")(
            "down", "stop the demo's servers (their data is kept)");
    };
    cmd.run = demo;
    return cmd;
}

}  // namespace artistsaid::cli
