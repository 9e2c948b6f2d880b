// PaymentRecorder: records a succeeded payment against an invoice inside the caller's
// transaction (payments.charge, bank transfers, webhooks): the payment row, the invoice's
// amount_paid and status (paid once payments + credit cover the total), an overpayment as
// client credit, and one balanced ledger transaction 'payment.succeeded' referenced
// 'payment:<id>':
//   gateway_clearing +amount / receivable -(amount - overpaid) / client_credit -overpaid
// linked from the payment (payments.ledger_transaction_id, migration 0020): the link, not the
// reference, says whether a payment is posted (the batch path posts many payments in one
// ledger transaction per currency, BatchPaymentRecorder).
// payments.idempotency_key is UNIQUE: recording the same key twice returns the first
// payment and changes nothing (a payment is never counted twice).
//
// Thread-safety: stateless; the invoice row is locked (FOR UPDATE) while recording.
#pragma once

#include <cstdint>
#include <pqxx/pqxx>
#include <string>

namespace artistsaid::billing {

struct RecordedPayment {
    std::int64_t payment_id = 0;
    std::int64_t overpaid = 0;   // moved to the client's credit balance
    bool invoice_paid = false;
    bool duplicate = false;      // the idempotency key was recorded before
};

class PaymentRecorder {
public:
    /// InputError for an unknown invoice, a currency mismatch, an amount <= 0 or an invoice
    /// that is not unpaid (cancelled, refunded, draft).
    static RecordedPayment record_succeeded(pqxx::work& tx, std::int64_t invoice_id,
                                            std::int64_t amount, const std::string& currency,
                                            const std::string& gateway,
                                            const std::string& gateway_reference,
                                            const std::string& idempotency_key);

    /// Posts the consequences of a payment row that already exists and has just become
    /// succeeded (a charge recorded first as unknown or pending, then resolved by the gateway's
    /// answer or by the PaymentReconciler): the invoice's amount_paid and status, the
    /// overpayment as credit and the ledger transaction, exactly as record_succeeded() does.
    /// Call it in the transaction that changed the row's status. Posting twice is impossible:
    /// a second call finds the payment linked to its posting (whichever path posted it) and
    /// returns duplicate.
    /// InputError for an unknown payment or one that is not succeeded.
    static RecordedPayment record_resolved(pqxx::transaction_base& tx, std::int64_t payment_id);
};

}  // namespace artistsaid::billing
