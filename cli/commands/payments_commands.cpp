// `artistsaid payments reconcile`: resolves payments, refunds and payouts whose outcome is
// unknown or pending by looking them up at their gateway (never by charging again).
// Run it from cron or a systemd timer (e.g. every 5 minutes), like `tick`.
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/commands/registry.hpp"
#include "cli/table.hpp"
#include "engine/core/duration.hpp"
#include "engine/core/error.hpp"
#include "engine/runtime/run_engine.hpp"
#include "gateways/gateway_setup.hpp"
#include "gateways/reconcile/payment_reconciler.hpp"
#include "plugins/payments/reconciled_payment_settler.hpp"

namespace artistsaid::cli {
namespace {

int payments_reconcile(Context& ctx) {
    if (ctx.config.database_url().empty())
        throw InputError("no database configured: set ARTISTSAID_DATABASE_URL or database_url");
    gateways::ReconcileOptions options;
    if (ctx.options.count("min-age")) {
        options.min_age = std::chrono::duration_cast<std::chrono::seconds>(
            parse_duration(ctx.options["min-age"].as<std::string>()));
    }
    if (ctx.options.count("limit")) {
        options.limit = ctx.options["limit"].as<int>();
        if (options.limit < 1) throw InputError("--limit must be at least 1", ErrorCode::kUsage);
    }
    std::string file;
    if (ctx.options.count("gateways")) {
        file = ctx.options["gateways"].as<std::string>();
    } else if (const char* env = std::getenv("ARTISTSAID_GATEWAYS_FILE"); env && *env) {
        file = env;
    }
    nlohmann::json settings =
        file.empty() ? nlohmann::json::object() : gateways::load_gateway_settings(file);
    runtime::RuntimeOptions secrets_holder;
    runtime::load_env_and_secrets(secrets_holder);
    gateways::GatewayRegistry registry;
    gateways::register_gateways(registry, settings, secrets_holder.secrets,
                                ctx.config.database_url());

    gateways::PaymentReconciler reconciler(ctx.config.database_url(), registry, options);
    payments::ReconciledPaymentSettler::attach(reconciler);  // a resolved charge settles its invoice
    auto report = reconciler.run_once();
    if (ctx.json) {
        auto changes = nlohmann::json::array();
        for (const auto& c : report.changes) {
            changes.push_back({{"table", c.table}, {"id", c.id},
                               {"idempotency_key", c.idempotency_key}, {"gateway", c.gateway},
                               {"old_status", c.old_status}, {"new_status", c.new_status},
                               {"provider_id", c.provider_id}, {"decline_code", c.decline_code},
                               {"note", c.note}, {"lookup_failed", c.lookup_failed}});
        }
        ctx.out << nlohmann::json{{"checked", report.checked}, {"resolved", report.resolved},
                                  {"unchanged", report.unchanged}, {"errors", report.errors},
                                  {"changes", changes}}
                       .dump()
                << '\n';
    } else {
        if (!report.changes.empty()) {
            Table table({"TABLE", "ID", "GATEWAY", "WAS", "NOW", "PROVIDER ID", "NOTE"});
            for (const auto& c : report.changes) {
                table.add_row({c.table, std::to_string(c.id), c.gateway, c.old_status,
                               c.new_status, c.provider_id, c.note});
            }
            table.print(ctx.out);
        }
        ctx.out << "checked " << report.checked << ", resolved " << report.resolved
                << ", still open " << report.unchanged << ", errors " << report.errors << '\n';
    }
    return report.errors > 0 ? static_cast<int>(ExitCode::kUnavailable) : 0;
}

}  // namespace

Command payments_commands() {
    Command group;
    group.name = "payments";
    group.summary = "Payments at the gateways: reconcile unknown and pending outcomes.";
    Command reconcile;
    reconcile.name = "reconcile";
    reconcile.summary =
        "Look up every payment, refund and payout left unknown or pending at its gateway (by "
        "idempotency key) and record the outcome; nothing is charged again. Exit 3 if a "
        "gateway could not be asked.";
    reconcile.add_options = [](po::options_description& d) {
        d.add_options()("gateways", po::value<std::string>()->value_name("FILE"),
                        "gateways configuration (default: $ARTISTSAID_GATEWAYS_FILE; without "
                        "one only the sandbox)")(
            "min-age", po::value<std::string>()->value_name("DURATION"),
            "leave rows younger than this alone, their call may be in flight (default 60s)")(
            "limit", po::value<int>()->value_name("N"), "rows per run (default 500)");
    };
    reconcile.run = payments_reconcile;
    group.children = {reconcile};
    return group;
}

}  // namespace artistsaid::cli
