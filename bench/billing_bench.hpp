// `artistsaid bench billing`: seeds N active subscriptions by COPY into a private database
// and bills them through the real InvoiceGenerator (periods, add-ons, usage, tax, credit,
// ledger, the collection for charging), then verifies the ledger. Results: bench/RESULTS.md.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace artistsaid::bench {

struct BillingBenchOptions {
    std::string database_url;    // a role that may create a database
    std::string migrations_dir;
    long long subscriptions = 100'000;
    long long clients = 0;       // 0: subscriptions / 2
};

/// {subscriptions, clients, invoices, invoice_items, charges, seconds, seed_seconds,
///  verify_seconds, invoices_per_s, subscriptions_per_s, peak_rss_kib, cli_peak_rss_kib,
///  postgres_backend_peak_rss_kib, timings_ms, ledger_ok}
nlohmann::json run_billing_bench(const BillingBenchOptions& options);

}  // namespace artistsaid::bench
