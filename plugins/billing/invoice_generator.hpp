// InvoiceGenerator: bills every active subscription due within `lead_days` of `as_of`, in
// a handful of set-based statements in ONE database transaction (no round trip per
// subscription), so a million subscriptions are billed in seconds.
//
// What one execution does, in order (all or nothing):
//   1. claims the execution: a billing_runs row keyed by the step's idempotency key. A
//      second execution with the same key (a retry after a crash, a redelivered job)
//      conflicts there and returns the outputs stored by the first, creating nothing.
//   2. takes the due periods: one UPDATE advances next_due_date of every due, priced
//      subscription by one cycle (one-offs to NULL) and returns the period it billed
//      [old due, new due); it is repeated while subscriptions are still due (catch-up, at
//      most `max_periods` periods each). A concurrent run re-checks each row under its lock
//      and skips rows that moved, and the unique index on invoice_items (one recurring
//      line per subscription and period) refuses a period billed before — so a period is
//      billed once, decided by constraints, never by a read-then-write.
//   3. builds the lines: the recurring charge (price override or the service's price for
//      the currency and cycle, times quantity), flat add-ons of the same cycle, and usage
//      in arrears (unbilled usage_records of each metered add-on recorded before the
//      period's start, above the included quantity, as one line per add-on whose period is
//      the one just ended; the records are marked billed).
//   4. computes tax per line and rate (TaxCalculator's rules, in SQL): rates by the
//      client's country and region on `as_of`, exempt clients and non-taxable services
//      untaxed, tax-inclusive prices split into net + tax.
//   5. writes one invoice per client and currency (gap-free numbers, due on the earliest
//      due date of its subscriptions, never before `as_of`), its items and tax lines,
//      applies the client's credit balance (when `apply_credit`), marks fully covered
//      invoices paid, and posts balanced ledger transactions per currency: receivable /
//      revenue / tax payable for the invoices, client credit / receivable for credit used.
//   6. stores the invoices left to collect as a collection for a for_each
//      ({"$collection": {"id"}}), and the outputs in the billing_runs row.
// With `partitions` > 1, only the clients whose id % partitions == partition are billed
// (each partition its own execution and key; see InvoiceRunOptions).
// With `dry_run`, all of it runs and the transaction is rolled back: the outputs say what
// would have been billed.
//
// Thread-safety: stateless; give each call its own connection.
#pragma once

#include <nlohmann/json.hpp>
#include <pqxx/connection>
#include <string>

#include "plugins/billing/billing_period.hpp"
#include "plugins/billing/rounding_mode.hpp"

namespace artistsaid::billing {

struct InvoiceRunOptions {
    Date as_of{};
    int lead_days = 0;            // bill what is due up to as_of + lead_days
    bool apply_credit = true;     // use client credit balances on the new invoices
    RoundingMode rounding = RoundingMode::kHalfUp;
    bool dry_run = false;
    int max_periods = 120;        // catch-up limit per subscription and run
    std::string idempotency_key;  // the step's key: one execution per key
    std::string run_id;           // owner of the collection; empty outside a workflow run
    // Bill only the clients whose id % partitions == partition (all of a client's
    // subscriptions fall in one partition, so still one invoice per client and currency).
    // Partitions are separate billing runs (each its own key and transaction): a large book
    // is invoiced in smaller transactions, and each part can be charged while the next is
    // invoiced.
    int partition = 0;
    int partitions = 1;
};

inline constexpr int kMaxPartitions = 4096;

class InvoiceGenerator {
public:
    /// Runs one billing execution; returns its outputs (see the class comment):
    /// {billing_run_id, invoice_count, subscription_periods, skipped_subscriptions,
    ///  totals: {CUR: {invoices, subtotal, tax, total, credit_applied, balance_due}},
    ///  invoices: {"$collection": {"id"}} | null, to_collect_count, replayed, dry_run}.
    /// Throws InputError for bad options, StoreError/UnavailableError from PostgreSQL.
    nlohmann::json generate(pqxx::connection& conn, const InvoiceRunOptions& options) const;
};

}  // namespace artistsaid::billing
