// ReconciledPaymentSettler: what a payment's resolution means for its invoice and the ledger.
#pragma once

#include <pqxx/transaction_base>

#include "gateways/reconcile/payment_reconciler.hpp"

namespace artistsaid::payments {

/// The PaymentReconciler's change listener for payments: when a charge recorded as unknown or
/// pending turns out to have succeeded, the invoice is credited (paid once covered), an
/// overpayment becomes client credit, and the ledger transaction is posted, through
/// billing::PaymentRecorder::record_resolved(). A decline or failure changes nothing else:
/// the invoice stays unpaid and the dunning policy takes over.
/// Refunds: an invoice refund that succeeded gets its credit note and ledger (RefundRecorder);
/// a credit refund (kind client_credit) is posted when it succeeded and its reserved credit is
/// given back when it failed (CreditRefundRecorder).
///
/// Exactly once: the reconciler calls it inside the transaction that moves the row out of
/// unknown/pending (the row is locked, so only one reconciler can), and record_resolved()
/// refuses to post a payment whose ledger transaction exists.
///
/// Thread-safety: stateless.
class ReconciledPaymentSettler {
public:
    static void on_change(pqxx::transaction_base& tx, const gateways::ReconcileChange& change);
    /// A PaymentReconciler with this settler as its listener.
    static void attach(gateways::PaymentReconciler& reconciler);
};

}  // namespace artistsaid::payments
