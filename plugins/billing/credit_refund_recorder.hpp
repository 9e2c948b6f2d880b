// CreditRefundRecorder: the books of a credit refund (payments.refund_credit: client credit
// that came from an overpayment, paid back through the overpaying payment's gateway), inside
// the caller's transaction. One `refunds` row (kind 'client_credit') goes through:
//   reserve()           with the write-ahead row, before the gateway is called: the credit
//                       leaves the client's balance at once (a `credits` row of kind 'refund',
//                       -amount), so neither the next invoice run nor a concurrent request can
//                       spend it while the refund is in flight; 'credit_refund.reserved',
//                       reference 'credit_refund:<id>': client_credit +amount / refunds -amount
//   record_succeeded()  the money left: 'refund.succeeded', reference 'refund:<id>':
//                       refunds +amount / gateway_clearing -amount
//   record_failed()     the gateway refused (or never saw it): the credit comes back, a
//                       `credits` row of kind 'refund' (+amount) and 'credit_refund.released',
//                       reference 'credit_refund_release:<id>': refunds +amount /
//                       client_credit -amount
// The 'refunds' account holds credit refunds in flight; it nets to zero once all are final.
// Once: each posting is skipped when its reference exists (returns false then).
//
// Thread-safety: stateless; the refund row is locked (FOR UPDATE) while recording.
#pragma once

#include <cstdint>
#include <pqxx/transaction_base>

namespace artistsaid::billing {

class CreditRefundRecorder {
public:
    /// Whether refund `refund_id` is a credit refund (kind 'client_credit').
    static bool is_credit_refund(pqxx::transaction_base& tx, std::int64_t refund_id);

    /// The write-ahead reservation of a new unknown credit refund row. The CHECK on
    /// client_credit_balances refuses (at this statement) a reservation beyond the balance.
    static void reserve(pqxx::transaction_base& tx, std::int64_t refund_id);

    /// A credit refund that is now succeeded; false if posted before. InputError if the row
    /// is not a succeeded credit refund.
    static bool record_succeeded(pqxx::transaction_base& tx, std::int64_t refund_id);

    /// A credit refund that is now failed: its credit given back; false if released before.
    /// InputError if the row is not a failed credit refund.
    static bool record_failed(pqxx::transaction_base& tx, std::int64_t refund_id);
};

}  // namespace artistsaid::billing
