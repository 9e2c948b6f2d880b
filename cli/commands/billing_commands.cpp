// `artistsaid billing seed|preview`: load demo data; show what a billing run would invoice
// (the real InvoiceGenerator in a transaction that is rolled back).
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/commands/billing_cli_support.hpp"
#include "cli/commands/registry.hpp"
#include "engine/core/error.hpp"
#include "engine/core/id.hpp"
#include "engine/store/database.hpp"
#include "plugins/billing/invoice_generator.hpp"
#include "plugins/billing/seed_generator.hpp"

namespace artistsaid::cli {
namespace {

std::unique_ptr<pqxx::connection> database(Context& ctx) {
    return open_billing_database(ctx.config);
}

billing::Date as_of_option(Context& ctx) {
    if (!ctx.options.count("as-of")) throw InputError("--as-of DATE is required (YYYY-MM-DD)");
    return billing::parse_date(ctx.options["as-of"].as<std::string>(), "--as-of");
}

void print(Context& ctx, const nlohmann::json& result) { print_billing_result(ctx, result); }

int billing_seed(Context& ctx) {
    billing::SeedOptions o;
    o.as_of = as_of_option(ctx);
    if (ctx.options.count("clients")) o.clients = ctx.options["clients"].as<long long>();
    if (ctx.options.count("subscriptions"))
        o.subscriptions = ctx.options["subscriptions"].as<long long>();
    if (ctx.options.count("orders")) o.marketplace_orders = ctx.options["orders"].as<long long>();
    if (ctx.options.count("seed")) o.seed = ctx.options["seed"].as<unsigned long long>();
    auto conn = database(ctx);
    print(ctx, billing::SeedGenerator().load(*conn, o));
    return 0;
}

int billing_preview(Context& ctx) {
    billing::InvoiceRunOptions o;
    o.as_of = as_of_option(ctx);
    if (ctx.options.count("lead-days")) o.lead_days = ctx.options["lead-days"].as<int>();
    o.dry_run = true;
    o.idempotency_key = "preview:" + Uuid::v7().to_string();
    auto conn = database(ctx);
    auto result = billing::InvoiceGenerator().generate(*conn, o);
    result.erase("timings_ms");
    print(ctx, result);
    return 0;
}

}  // namespace

Command billing_commands() {
    Command group;
    group.name = "billing";
    group.summary = "Billing data: demo seed, and a preview of what a billing run would invoice.";
    Command seed;
    seed.name = "seed";
    seed.summary = "Load deterministic demo data (clients, services, taxes, subscriptions, "
                   "marketplace orders, sandbox cards) by COPY into the configured database.";
    seed.add_options = [](po::options_description& d) {
        d.add_options()("as-of", po::value<std::string>()->value_name("DATE"),
                        "subscriptions fall due around this day (required)")(
            "clients", po::value<long long>()->value_name("N"), "clients (300)")(
            "subscriptions", po::value<long long>()->value_name("N"), "subscriptions (600)")(
            "orders", po::value<long long>()->value_name("N"), "marketplace orders (100)")(
            "seed", po::value<unsigned long long>()->value_name("N"), "random seed (42)");
    };
    seed.run = billing_seed;
    Command preview;
    preview.name = "preview";
    preview.summary = "What billing.generate_invoices would invoice on a day, per currency, "
                      "computed by the same code and rolled back.";
    preview.add_options = [](po::options_description& d) {
        d.add_options()("as-of", po::value<std::string>()->value_name("DATE"), "billing day (required)")(
            "lead-days", po::value<int>()->value_name("N"), "bill what is due up to N days later (0)");
    };
    preview.run = billing_preview;
    group.children = {seed, preview};
    for (auto& command : billing_adjust_commands()) group.children.push_back(std::move(command));
    return group;
}

}  // namespace artistsaid::cli
