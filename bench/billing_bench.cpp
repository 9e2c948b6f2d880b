#include "bench/billing_bench.hpp"

#include "bench/bench_database.hpp"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <sstream>

#include "engine/core/error.hpp"
#include "engine/core/id.hpp"
#include "engine/store/database.hpp"
#include "engine/store/migrator.hpp"
#include "plugins/billing/invoice_generator.hpp"
#include "plugins/billing/ledger_verifier.hpp"
#include "plugins/billing/seed_generator.hpp"

namespace artistsaid::bench {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

nlohmann::json run_billing_bench(const BillingBenchOptions& o) {
    if (o.subscriptions < 1 || o.subscriptions > 20'000'000)
        throw InputError("--subscriptions must be between 1 and 20000000");
    if (o.clients < 0) throw InputError("--clients must be positive");
    const long long clients = o.clients > 0 ? o.clients : std::max(1LL, o.subscriptions / 2);
    BenchDatabase db(o.database_url, o.migrations_dir, "aa_bench_billing_", "bench billing");
    auto conn = store::connect(db.url(), std::chrono::seconds(10), std::chrono::minutes(30));
    const long backend_pid = pqxx::nontransaction(*conn).exec1("SELECT pg_backend_pid()")[0].as<long>();

    billing::SeedOptions seed;
    seed.clients = clients;
    seed.subscriptions = o.subscriptions;
    seed.as_of = billing::parse_date("2026-01-15", "as_of");
    seed.due_spread_days = 7;
    seed.marketplace_orders = 0;
    const auto seed_start = Clock::now();
    const auto seeded = billing::SeedGenerator().load(*conn, seed);
    const double seed_seconds = seconds_since(seed_start);

    billing::InvoiceRunOptions run;
    run.as_of = seed.as_of;
    run.lead_days = 7;  // every seeded subscription is due by as_of + 7
    run.idempotency_key = "bench:" + Uuid::v7().to_string();
    const auto start = Clock::now();
    const auto outputs = billing::InvoiceGenerator().generate(*conn, run);
    const double seconds = seconds_since(start);

    const auto verify_start = Clock::now();
    const auto report = billing::LedgerVerifier().verify(*conn);
    const double verify_seconds = seconds_since(verify_start);

    const long long items =
        pqxx::nontransaction(*conn).exec1("SELECT count(*) FROM invoice_items")[0].as<long long>();
    const long self_kib = proc_status_kib(static_cast<long>(::getpid()), "VmHWM");
    const long backend_kib = proc_status_kib(backend_pid, "VmHWM");
    const long long invoices = outputs.value("invoice_count", 0LL);
    return {{"subscriptions", o.subscriptions},
            {"clients", clients},
            {"subscription_periods", outputs.value("subscription_periods", 0LL)},
            {"usage_records", seeded.value("usage_records", 0LL)},
            {"invoices", invoices},
            {"invoice_items", items},
            {"charges", 0},
            {"seconds", seconds},
            {"seed_seconds", seed_seconds},
            {"verify_seconds", verify_seconds},
            {"invoices_per_s", static_cast<long long>(static_cast<double>(invoices) / seconds)},
            {"subscriptions_per_s",
             static_cast<long long>(static_cast<double>(o.subscriptions) / seconds)},
            {"peak_rss_kib", std::max(self_kib, backend_kib)},
            {"cli_peak_rss_kib", self_kib},
            {"postgres_backend_peak_rss_kib", backend_kib},
            {"timings_ms", outputs.value("timings_ms", nlohmann::json::object())},
            {"totals", outputs.value("totals", nlohmann::json::object())},
            {"ledger_ok", report.value("ok", false)}};
}

}  // namespace artistsaid::bench
