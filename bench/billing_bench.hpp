// `artistsaid bench billing`: seeds N active subscriptions by COPY into a private database
// and bills them through the real InvoiceGenerator (periods, add-ons, usage, tax, credit,
// ledger, the collection for charging), charges every invoice with a balance through the
// real BatchInvoiceCharger (or InvoiceCharger, --charge-batch 0) and the sandbox gateway,
// then verifies the ledger. Results: bench/RESULTS.md.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace artistsaid::bench {

struct BillingBenchOptions {
    std::string database_url;    // a role that may create a database
    std::string migrations_dir;
    long long subscriptions = 100'000;
    long long clients = 0;       // 0: subscriptions / 2
    bool charges = true;         // charge every invoice with a balance (sandbox gateway)
    int charge_threads = 8;
    /// Invoices per BatchInvoiceCharger call (the batch path); 0: one InvoiceCharger call per
    /// invoice (the single path).
    int charge_batch = 500;
    /// Client partitions invoiced one after another, each charged while the next is
    /// invoiced (billing.generate_invoices's `partitions`); 1: invoice all, then charge.
    int partitions = 1;
};

/// {subscriptions, clients, invoices, invoice_items, charges, charge_outcomes,
///  charge_seconds, charges_per_s, charge_path, charge_batch, charge_phases_ms (batch path), partitions, invoice_seconds (until the last partition
///  committed), seconds (start of invoicing to the last charge), seed_seconds,
///  verify_seconds, invoices_per_s, subscriptions_per_s, peak_rss_kib, cli_peak_rss_kib,
///  postgres_backend_peak_rss_kib, timings_ms, ledger_ok}
nlohmann::json run_billing_bench(const BillingBenchOptions& options);

}  // namespace artistsaid::bench
