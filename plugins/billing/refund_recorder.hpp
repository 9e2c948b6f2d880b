// RefundRecorder: what a succeeded refund means for the books, inside the caller's
// transaction (payments.refund when the gateway says succeeded, the reconciler's settle hook
// when a refund left unknown turns out to have succeeded):
//   * a credit note for the refunded amount (CreditNoteIssuer, kRefund: its share of the
//     invoice's tax, gap-free number, 'credit_note.issued': revenue +subtotal /
//     tax_payable +tax / receivable -amount), linked from refunds.credit_note_id;
//   * the money out, 'refund.succeeded' referenced 'refund:<id>':
//     receivable +amount / gateway_clearing -amount (the reverse of payment.succeeded);
//   * the invoice becomes `refunded` once its succeeded refunds reach what was paid on it.
// Once: a refund whose 'refund:<id>' transaction exists is not posted again (duplicate).
//
// Thread-safety: stateless; the refund and invoice rows are locked while recording.
#pragma once

#include <cstdint>
#include <pqxx/transaction_base>

#include "plugins/billing/credit_note_issuer.hpp"

namespace artistsaid::billing {

struct RecordedRefund {
    IssuedCreditNote credit_note;
    bool duplicate = false;
};

class RefundRecorder {
public:
    /// InputError for an unknown refund or one that is not succeeded.
    static RecordedRefund record_resolved(pqxx::transaction_base& tx, std::int64_t refund_id);
};

}  // namespace artistsaid::billing
