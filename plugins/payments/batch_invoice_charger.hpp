// BatchInvoiceCharger: charges the balances of many invoices at once, set based, with the
// guarantees of InvoiceCharger (the single path) for each of them.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <pqxx/connection>
#include <string>
#include <vector>

#include "plugins/payments/payments_context.hpp"

namespace artistsaid::payments {

/// One invoice of a batch: what ChargeOptions holds for the single path.
struct BatchChargeItem {
    std::int64_t invoice_id = 0;
    /// Stored as payments.idempotency_key and sent to the gateway, as in the single path.
    std::string idempotency_key;
    /// "YYYY-MM-DD" or empty: at most one attempt per invoice and day, whichever path.
    std::string collection_day;
};

/// Wall time of each phase, summed over calls (what `bench billing` reports).
struct BatchChargeTimings {
    double read_ms = 0;         // step 1
    double write_ahead_ms = 0;  // step 2
    double gateway_ms = 0;      // step 3
    double outcome_ms = 0;      // step 4 (and the single-path resumes)
};

struct BatchChargeOptions {
    std::chrono::system_clock::time_point deadline;
    /// Gateway calls in flight at once for gateways without a batch API (Stripe, PayPal).
    int gateway_parallel = 8;
    /// When set, each phase's wall time is added to it (the caller owns it; one per thread).
    BatchChargeTimings* timings = nullptr;
    /// When set, the batch's transactions run on this open connection (the caller's, with no
    /// transaction open on it) instead of a new one from PaymentsContext::connect: a caller
    /// charging batch after batch keeps one backend.
    pqxx::connection* connection = nullptr;
};

/// Charges a batch (up to kMaxBatch invoices, no invoice twice) in four steps:
///  1. One read of what exists: a payment under an item's key (final: reported as it is,
///     `replayed`; unknown or pending: handed to InvoiceCharger, which looks it up at the
///     gateway first, never charging blindly), an attempt for the item's collection day
///     under another key (reported, as the single path does), the invoices and the client's
///     payment methods at the gateway GatewayRouting chooses.
///  2. Write-ahead: ONE INSERT … SELECT commits a payment row `unknown` for every item to
///     charge, under the same UNIQUE idempotency key and (invoice, collection_day) as the
///     single path — so a batch and a single charge for the same invoice and day never both
///     charge. A row the insert skipped (another attempt holds it) is reported `in_progress`.
///  3. The gateway calls: PaymentGateway::charge_batch per gateway, each call with its key.
///  4. ONE transaction records every outcome: the payment statuses (only rows still unknown:
///     a reconciler may have resolved one meanwhile), and BatchPaymentRecorder posts invoice,
///     credit and ledger consequences of the succeeded ones. Unknown and pending outcomes
///     stay for the reconciler. A crash between 2 and 4 leaves `unknown` rows that the
///     PaymentReconciler resolves by key, as after a crash of the single path.
///
/// Outputs: one JSON object per item, in order, with InvoiceCharger's fields; status is
/// also `in_progress` (another attempt holds the payment row) or `error` (this item could not
/// be attempted, e.g. no gateway for its currency; `error` says why, nothing was written).
///
/// Thread-safety: stateless apart from the context; concurrent batches over overlapping
/// invoices are safe (the UNIQUE constraints decide, rows are locked in invoice id order).
class BatchInvoiceCharger {
public:
    static constexpr std::size_t kMaxBatch = 10'000;

    explicit BatchInvoiceCharger(const PaymentsContext& context) : context_(context) {}

    /// InputError (nothing written) for a bad item, an invoice twice, an unknown invoice or
    /// a key that belongs to another invoice.
    std::vector<nlohmann::json> charge(const std::vector<BatchChargeItem>& items,
                                       const BatchChargeOptions& options) const;

private:
    std::vector<nlohmann::json> charge_checked(const std::vector<BatchChargeItem>& items,
                                               const BatchChargeOptions& options) const;
    const PaymentsContext& context_;
};

}  // namespace artistsaid::payments
