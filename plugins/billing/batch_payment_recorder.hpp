// BatchPaymentRecorder: records the outcomes of a batch of payments and posts the succeeded
// ones, set based (the batch charge path, plugins/payments/batch_invoice_charger.hpp).
#pragma once

#include <cstdint>
#include <pqxx/transaction_base>
#include <string>
#include <vector>

namespace artistsaid::billing {

/// The gateway's answer for one payment row written ahead as `unknown`.
struct PaymentOutcome {
    std::int64_t payment_id = 0;
    std::string status;        // payments.status: succeeded | pending | declined | failed | unknown
    std::string reference;     // the gateway's id of the charge, "" when it gave none
    std::string decline_code;  // "" when none
    std::string error;         // "" when none
};

/// What a call recorded.
struct BatchRecorded {
    std::size_t settled = 0;              // payment rows whose status this call set
    std::size_t posted = 0;               // payments posted to the ledger
    std::size_t ledger_transactions = 0;  // one per currency of the posted payments
};

/// Posts what PaymentRecorder posts for each succeeded payment — the invoice's amount_paid,
/// status and paid_at, the overpayment as client credit (a `credits` row per payment,
/// `<payment key>:overpayment`) — but with ONE ledger transaction 'payment.succeeded' per
/// batch and currency (reference 'payment_batch:<first payment id>'), whose entries are the
/// sums over its payments:
///   gateway_clearing +Σ amount / receivable −Σ (amount − overpaid) / client_credit −Σ overpaid
/// and links each payment to it (payments.ledger_transaction_id, migration 0020), in the same
/// database transaction. `ledger verify` checks that each such posting equals its payments.
///
/// Posted once: a payment is posted only while its row is locked and its link is NULL, and
/// the link is set before the caller commits. Locks are taken in one order — the batch's
/// payment rows (id order), then their invoices (id order) — the order of the single path
/// (payment row, then its invoice), so batches, single charges and the reconciler cannot
/// deadlock on them. Several payments of one invoice are applied in payment id order, exactly
/// as one PaymentRecorder::record_resolved() call after the other.
///
/// Thread-safety: stateless.
class BatchPaymentRecorder {
public:
    /// The outcome transaction of a batch charge: sets the status (and gateway reference,
    /// decline code, error, resolved_at) of every payment still `unknown` — a reconciler may
    /// have resolved some meanwhile: those are left as they are — and posts the succeeded
    /// ones. At most one outcome per payment.
    static BatchRecorded record_outcomes(pqxx::transaction_base& tx,
                                         const std::vector<PaymentOutcome>& outcomes);

    /// Posts payments that are already `succeeded` and not yet posted (others are skipped:
    /// posting twice is impossible). Returns how many were posted.
    static std::size_t record_resolved(pqxx::transaction_base& tx,
                                       const std::vector<std::int64_t>& payment_ids);
};

}  // namespace artistsaid::billing
