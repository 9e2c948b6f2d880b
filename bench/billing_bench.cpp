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

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

namespace artistsaid::bench {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// Batches of invoice ids from the invoicing thread to the charge threads.
class ChargeFeed {
public:
    void push(const std::vector<std::int64_t>& ids, std::size_t batch) {
        std::lock_guard lock(mutex_);
        for (std::size_t i = 0; i < ids.size(); i += batch)
            batches_.emplace_back(ids.begin() + static_cast<std::ptrdiff_t>(i),
                                  ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), i + batch)));
        ready_.notify_all();
    }
    void close() {
        std::lock_guard lock(mutex_);
        closed_ = true;
        ready_.notify_all();
    }
    /// The next batch; nullopt once the feed is closed and empty.
    std::optional<std::vector<std::int64_t>> pop() {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [&] { return closed_ || !batches_.empty(); });
        if (batches_.empty()) return std::nullopt;
        auto batch = std::move(batches_.front());
        batches_.pop_front();
        return batch;
    }

private:
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<std::vector<std::int64_t>> batches_;
    bool closed_ = false;
};

// Sums one partition's outputs into the run's: counts, totals per currency, phase timings.
void add_partition_outputs(nlohmann::json& sum, const nlohmann::json& part) {
    for (const char* k : {"invoice_count", "subscription_periods"})
        sum[k] = sum[k].get<long long>() + part.value(k, 0LL);
    if (const auto totals = part.find("totals"); totals != part.end() && totals->is_object())
        for (const auto& [currency, t] : totals->items()) {
            auto& to = sum["totals"][currency];
            if (!to.is_object()) to = nlohmann::json::object();
            for (const auto& [k, v] : t.items()) to[k] = to.value(k, 0LL) + v.get<long long>();
        }
    if (const auto timings = part.find("timings_ms"); timings != part.end() && timings->is_object())
        for (const auto& [k, v] : timings->items())
            sum["timings_ms"][k] = sum["timings_ms"].value(k, 0LL) + v.get<long long>();
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

    if (o.charge_batch < 0 || o.charge_batch > static_cast<int>(payments::BatchInvoiceCharger::kMaxBatch))
        throw InputError("--charge-batch must be 0.." + std::to_string(payments::BatchInvoiceCharger::kMaxBatch));
    if (o.partitions < 1 || o.partitions > billing::kMaxPartitions)
        throw InputError("--partitions must be 1.." + std::to_string(billing::kMaxPartitions));

    // Invoicing, one client partition after another (each its own billing run and
    // transaction, as a partitioned billing cycle runs them); each partition's invoices with
    // a balance are handed to the charge threads as soon as it commits, so partition k is
    // charged while partition k+1 is invoiced. One partition: invoice everything, then
    // charge (the unpartitioned cycle).
    ChargeFeed feed;
    const std::size_t step = o.charge_batch > 0 ? static_cast<std::size_t>(o.charge_batch) : 1;
    nlohmann::json outputs = {{"invoice_count", 0LL}, {"subscription_periods", 0LL},
                              {"totals", nlohmann::json::object()},
                              {"timings_ms", nlohmann::json::object()}};
    double invoice_seconds = 0;
    std::exception_ptr invoice_error;
    const auto start = Clock::now();
    std::thread invoicer([&] {
        try {
            const std::string key = "bench:" + Uuid::v7().to_string();
            for (int p = 0; p < o.partitions; ++p) {
                billing::InvoiceRunOptions run;
                run.as_of = seed.as_of;
                run.lead_days = 7;  // every seeded subscription is due by as_of + 7
                run.partition = p;
                run.partitions = o.partitions;
                run.idempotency_key = key + ":p" + std::to_string(p);
                const auto part = billing::InvoiceGenerator().generate(*conn, run);
                add_partition_outputs(outputs, part);
                if (!o.charges) continue;
                std::vector<std::int64_t> due;
                for (const auto& r : pqxx::nontransaction(*conn).exec_params(
                         "SELECT id FROM invoices WHERE billing_run_id = $1 AND status = 'unpaid' "
                         "AND total - credit_applied - amount_paid > 0 ORDER BY id",
                         part.value("billing_run_id", 0LL)))
                    due.push_back(r[0].as<std::int64_t>());
                feed.push(due, step);
            }
        } catch (...) {
            invoice_error = std::current_exception();
        }
        invoice_seconds = seconds_since(start);
        feed.close();
    });

    // Charges: every invoice with a balance, through the real BatchInvoiceCharger (write-ahead
    // rows, the sandbox gateway's batch call, outcome and ledger), `charge_threads` batches at
    // a time — or, with charge_batch 0, the real InvoiceCharger per invoice — as the cycle's
    // for_each would run them but without the run-time's per-item jobs.
    long long charges = 0;
    std::optional<Clock::time_point> first_charge;
    std::map<std::string, long long> outcomes;
    payments::BatchChargeTimings phases;
    if (o.charges) {
        gateways::GatewayRegistry registry;
        registry.add(std::make_unique<gateways::SandboxGateway>(db.url()));
        registry.set_routing(gateways::GatewayRouting("sandbox"));
        const std::string url = db.url();
        payments::PaymentsContext context;
        context.connect = [url] { return store::connect(url, std::chrono::seconds(10), std::chrono::minutes(5)); };
        context.database_url = [url] { return url; };
        context.gateways = [&registry]() -> const gateways::GatewayRegistry& { return registry; };
        std::mutex mutex;
        std::vector<std::thread> threads;
        for (int t = 0; t < o.charge_threads; ++t) {
            threads.emplace_back([&] {
                payments::InvoiceCharger charger(context);
                payments::BatchInvoiceCharger batch_charger(context);
                payments::BatchChargeTimings my_phases;
                std::map<std::string, long long> mine;
                // One connection per thread for its batches (opened again if it broke).
                store::ConnectionPool::Lease my_conn;
                long long my_charges = 0;
                for (auto batch = feed.pop(); batch; batch = feed.pop()) {
                    {
                        std::lock_guard lock(mutex);
                        if (!first_charge) first_charge = Clock::now();
                    }
                    my_charges += static_cast<long long>(batch->size());
                    const auto deadline = std::chrono::system_clock::now() + std::chrono::minutes(1);
                    if (o.charge_batch == 0) {
                        payments::ChargeOptions c;
                        c.invoice_id = batch->front();
                        c.idempotency_key = "bench:charge:" + std::to_string(c.invoice_id);
                        c.deadline = deadline;
                        try {
                            ++mine[charger.charge(c).value("status", "?")];
                        } catch (const std::exception&) {
                            ++mine["error"];
                        }
                        continue;
                    }
                    std::vector<payments::BatchChargeItem> items;
                    for (const auto id : *batch) items.push_back({id, "bench:charge:" + std::to_string(id), ""});
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
                charges += my_charges;
                phases.read_ms += my_phases.read_ms;
                phases.write_ahead_ms += my_phases.write_ahead_ms;
                phases.gateway_ms += my_phases.gateway_ms;
                phases.outcome_ms += my_phases.outcome_ms;
            });
        }
        for (auto& t : threads) t.join();
    }
    invoicer.join();
    if (invoice_error) std::rethrow_exception(invoice_error);
    const double seconds = seconds_since(start);
    const double charge_seconds =
        first_charge ? std::chrono::duration<double>(Clock::now() - *first_charge).count() : 0.0;

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
            {"partitions", o.partitions},
            {"invoice_seconds", invoice_seconds},
            {"seconds", seconds},
            {"seed_seconds", seed_seconds},
            {"verify_seconds", verify_seconds},
            {"invoices_per_s", static_cast<long long>(static_cast<double>(invoices) / invoice_seconds)},
            {"subscriptions_per_s",
             static_cast<long long>(static_cast<double>(o.subscriptions) / invoice_seconds)},
            {"peak_rss_kib", std::max(self_kib, backend_kib)},
            {"cli_peak_rss_kib", self_kib},
            {"postgres_backend_peak_rss_kib", backend_kib},
            {"timings_ms", outputs.value("timings_ms", nlohmann::json::object())},
            {"totals", outputs.value("totals", nlohmann::json::object())},
            {"ledger_ok", report.value("ok", false)}};
}

}  // namespace artistsaid::bench
