#include "bench/billing_bench.hpp"

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

long status_kib(long pid, const std::string& field) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(field + ":", 0) == 0) {
            std::istringstream fields(line.substr(field.size() + 1));
            long kib = -1;
            fields >> kib;
            return kib;
        }
    }
    return -1;
}

std::string with_database(const std::string& url, const std::string& db) {
    auto scheme_end = url.find("://");
    if (scheme_end == std::string::npos) return url + " dbname=" + db;
    auto path = url.find('/', scheme_end + 3);
    auto query = url.find('?');
    std::string params = query == std::string::npos ? "" : url.substr(query);
    std::string base = path == std::string::npos ? url.substr(0, query) : url.substr(0, path);
    return base + "/" + db + params;
}

// A migrated database of the benchmark's own; dropped on destruction.
class PrivateDatabase {
public:
    PrivateDatabase(const std::string& admin_url, const std::filesystem::path& migrations)
        : admin_url_(admin_url), name_("aa_bench_billing_" + Uuid::v7().to_string().substr(24)) {
        try {
            pqxx::connection admin(admin_url_);
            pqxx::nontransaction tx(admin);
            tx.exec0("CREATE DATABASE " + tx.quote_name(name_));
        } catch (const pqxx::broken_connection&) {
            throw UnavailableError("bench billing: cannot connect to PostgreSQL");
        } catch (const pqxx::sql_error& e) {
            throw UnavailableError(std::string("bench billing needs a role that may create a "
                                               "database of its own: ") + e.what());
        }
        url_ = with_database(admin_url_, name_);
        store::Migrator(url_, migrations).up();
    }
    ~PrivateDatabase() {
        try {
            pqxx::connection admin(admin_url_);
            pqxx::nontransaction tx(admin);
            tx.exec0("DROP DATABASE IF EXISTS " + tx.quote_name(name_) + " WITH (FORCE)");
        } catch (const std::exception&) {
            // Best effort: the name says what it is.
        }
    }
    PrivateDatabase(const PrivateDatabase&) = delete;
    PrivateDatabase& operator=(const PrivateDatabase&) = delete;
    const std::string& url() const { return url_; }

private:
    std::string admin_url_;
    std::string name_;
    std::string url_;
};

}  // namespace

nlohmann::json run_billing_bench(const BillingBenchOptions& o) {
    if (o.subscriptions < 1 || o.subscriptions > 20'000'000)
        throw InputError("--subscriptions must be between 1 and 20000000");
    if (o.clients < 0) throw InputError("--clients must be positive");
    const long long clients = o.clients > 0 ? o.clients : std::max(1LL, o.subscriptions / 2);
    PrivateDatabase db(o.database_url, o.migrations_dir);
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
    const long self_kib = status_kib(static_cast<long>(::getpid()), "VmHWM");
    const long backend_kib = status_kib(backend_pid, "VmHWM");
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
