// InvoiceCharger: charges the balance of one invoice through the client's gateway, once.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <pqxx/connection>
#include <string>

#include "plugins/payments/payments_context.hpp"

namespace artistsaid::payments {

struct ChargeOptions {
    std::int64_t invoice_id = 0;
    /// The step's key (run, step, item): sent to the gateway and stored as
    /// payments.idempotency_key, so every attempt and redelivery is the same payment.
    std::string idempotency_key;
    std::chrono::system_clock::time_point deadline;
    /// Write nothing and call no gateway: say what would be charged.
    bool dry_run = false;
    /// The day of the collection schedule this attempt is for ("YYYY-MM-DD", empty: none).
    /// At most one attempt per invoice and day: an attempt for a day that has one already
    /// (under another key: a re-run of the day) reports that one instead of charging.
    std::string collection_day;
};

/// Charges one invoice (Kill Bill's payment state machine, write-ahead):
///  1. A payment under this key exists already (an earlier attempt): if it is unknown or
///     pending it is first looked up at its gateway by the key (PaymentReconciler), never
///     charged blindly; a final outcome is reported as it is (`replayed`). Only a lookup
///     that finds nothing at the gateway makes a new call with the same key safe.
///  2. Otherwise the balance due (total - credit applied - paid) is charged to the client's
///     active payment method at the gateway GatewayRouting chooses for the client and the
///     invoice's currency. The payment row is committed as `unknown` before the gateway is
///     called, so a crash at any instant leaves a row the reconciler resolves.
///  3. The answer is recorded: succeeded → PaymentRecorder posts the invoice, credit and ledger
///     consequences in the same transaction; declined → the decline code; pending/unknown →
///     left for the reconciler.
///
/// Outputs (JSON): invoice_id, status (succeeded | declined | failed | pending | unknown |
/// nothing_due | not_collectable | no_payment_method), payment_id, amount, currency, gateway,
/// decline_code, error, invoice_paid, charged (a gateway charge call was made by this
/// attempt), replayed, reconciled, dry_run.
///
/// Thread-safety: stateless apart from the context; one call per invoice and key at a time
/// is what the run-time guarantees, and a concurrent duplicate is stopped by the UNIQUE key.
class InvoiceCharger {
public:
    explicit InvoiceCharger(const PaymentsContext& context) : context_(context) {}

    nlohmann::json charge(const ChargeOptions& options) const;

private:
    nlohmann::json resume_existing(pqxx::connection& db, const ChargeOptions& options,
                                   bool& charge_again) const;
    /// The attempt already made for options.collection_day (another key), or null.
    nlohmann::json attempt_of_day(pqxx::connection& db, const ChargeOptions& options) const;
    const PaymentsContext& context_;
};

}  // namespace artistsaid::payments
