// BatchPaymentRecorder: PaymentRecorder::record_resolved for a whole batch of payments, set
// based (the batch charge path, plugins/payments/batch_invoice_charger.hpp).
#pragma once

#include <cstdint>
#include <pqxx/transaction_base>
#include <vector>

namespace artistsaid::billing {

/// Posts the consequences of payment rows that already exist and have just become succeeded,
/// in the caller's transaction, with the same postings as PaymentRecorder::record_resolved()
/// (invoice amount_paid / status / paid_at, the overpayment as client credit, one balanced
/// ledger transaction 'payment.succeeded' referenced 'payment:<id>' per payment) but in a
/// handful of statements for the whole batch instead of five per payment.
///
/// The invoices are locked (FOR UPDATE) in id order, so concurrent batches and single charges
/// cannot deadlock on them. A payment that is not succeeded, or whose ledger transaction
/// exists already, is skipped: posting twice is impossible. Several payments of one invoice
/// are applied in payment id order, exactly as one record_resolved() call after the other.
///
/// Thread-safety: stateless.
class BatchPaymentRecorder {
public:
    /// Returns how many payments were posted.
    static std::size_t record_resolved(pqxx::transaction_base& tx,
                                       const std::vector<std::int64_t>& payment_ids);
};

}  // namespace artistsaid::billing
