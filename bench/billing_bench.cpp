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
#include "gateways/gateway_registry.hpp"
#include "gateways/gateway_routing.hpp"
#include "gateways/sandbox/sandbox_gateway.hpp"
#include "plugins/payments/batch_invoice_charger.hpp"
#include "plugins/payments/invoice_charger.hpp"

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

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

    // Charges: every invoice with a balance, through the real InvoiceCharger (write-ahead
    // row, sandbox gateway call, outcome and ledger), `charge_threads` at a time, as the
    // cycle's for_each would run them but without the run-time's per-item jobs — or, with
    // charge_batch > 0, through BatchInvoiceCharger, `charge_threads` batches at a time.
    if (o.charge_batch < 0 || o.charge_batch > static_cast<int>(payments::BatchInvoiceCharger::kMaxBatch))
        throw InputError("--charge-batch must be 0.." + std::to_string(payments::BatchInvoiceCharger::kMaxBatch));
    long long charges = 0;
    double charge_seconds = 0;
    std::map<std::string, long long> outcomes;
    payments::BatchChargeTimings phases;
    if (o.charges) {
        std::vector<std::int64_t> due;
        for (const auto& r : pqxx::nontransaction(*conn).exec(
                 "SELECT id FROM invoices WHERE status = 'unpaid' AND total - credit_applied - amount_paid > 0 "
                 "ORDER BY id"))
            due.push_back(r[0].as<std::int64_t>());
        gateways::GatewayRegistry registry;
        registry.add(std::make_unique<gateways::SandboxGateway>(db.url()));
        registry.set_routing(gateways::GatewayRouting("sandbox"));
        const std::string url = db.url();
        payments::PaymentsContext context;
        context.connect = [url] { return store::connect(url, std::chrono::seconds(10), std::chrono::minutes(5)); };
        context.database_url = [url] { return url; };
        context.gateways = [&registry]() -> const gateways::GatewayRegistry& { return registry; };
        std::atomic<std::size_t> next{0};
        std::mutex mutex;
        std::vector<std::thread> threads;
        const auto charge_start = Clock::now();
        // Statistics for the tables the invoice run just filled (in production they have
        // them, and autovacuum refreshes them after such a run): without them the planner
        // takes the 50,000 new invoices of a 100k run for a small table and joins each batch
        // of 500 against all of them. Part of the charge time.
        pqxx::nontransaction(*conn).exec0("ANALYZE invoices, payment_methods");
        const std::size_t step = o.charge_batch > 0 ? static_cast<std::size_t>(o.charge_batch) : 1;
        for (int t = 0; t < o.charge_threads; ++t) {
            threads.emplace_back([&] {
                payments::InvoiceCharger charger(context);
                payments::BatchInvoiceCharger batch_charger(context);
                payments::BatchChargeTimings my_phases;
                std::map<std::string, long long> mine;
                // One connection per thread for its batches (opened again if it broke).
                std::unique_ptr<pqxx::connection> my_conn;
                for (std::size_t i = next.fetch_add(step); i < due.size(); i = next.fetch_add(step)) {
                    const auto deadline = std::chrono::system_clock::now() + std::chrono::minutes(1);
                    if (o.charge_batch == 0) {
                        payments::ChargeOptions c;
                        c.invoice_id = due[i];
                        c.idempotency_key = "bench:charge:" + std::to_string(due[i]);
                        c.deadline = deadline;
                        try {
                            ++mine[charger.charge(c).value("status", "?")];
                        } catch (const std::exception&) {
                            ++mine["error"];
                        }
                        continue;
                    }
                    std::vector<payments::BatchChargeItem> items;
                    for (std::size_t j = i; j < std::min(due.size(), i + step); ++j)
                        items.push_back({due[j], "bench:charge:" + std::to_string(due[j]), ""});
                    payments::BatchChargeOptions bo;
                    bo.deadline = deadline;
                    bo.timings = &my_phases;
                    try {
                        if (!my_conn || !my_conn->is_open()) my_conn = context.connect();
                        bo.connection = my_conn.get();
                        for (const auto& out : batch_charger.charge(items, bo))
                            ++mine[out.value("status", "?")];
                    } catch (const std::exception&) {
                        mine["error"] += static_cast<long long>(items.size());
                    }
                }
                std::lock_guard lock(mutex);
                for (const auto& [k, v] : mine) outcomes[k] += v;
                phases.read_ms += my_phases.read_ms;
                phases.write_ahead_ms += my_phases.write_ahead_ms;
                phases.gateway_ms += my_phases.gateway_ms;
                phases.outcome_ms += my_phases.outcome_ms;
            });
        }
        for (auto& t : threads) t.join();
        charge_seconds = seconds_since(charge_start);
        charges = static_cast<long long>(due.size());
    }

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
            {"charges", charges},
            {"charge_outcomes", outcomes},
            {"charge_threads", o.charges ? o.charge_threads : 0},
            {"charge_path", o.charge_batch > 0 ? "batch" : "single"},
            {"charge_batch", o.charge_batch},
            // Summed over the threads: divide by charge_threads for wall time.
            {"charge_phases_ms", {{"read", static_cast<long long>(phases.read_ms)},
                                  {"write_ahead", static_cast<long long>(phases.write_ahead_ms)},
                                  {"gateway", static_cast<long long>(phases.gateway_ms)},
                                  {"outcome", static_cast<long long>(phases.outcome_ms)}}},
            {"charge_seconds", charge_seconds},
            {"charges_per_s", charge_seconds > 0 ? static_cast<long long>(static_cast<double>(charges) / charge_seconds) : 0},
            {"invoice_seconds", seconds},
            {"seconds", seconds + charge_seconds},
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
