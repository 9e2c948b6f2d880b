#include "plugins/payments/reconciled_payment_settler.hpp"

#include "plugins/billing/credit_refund_recorder.hpp"
#include "plugins/billing/payment_recorder.hpp"
#include "plugins/billing/refund_recorder.hpp"

namespace artistsaid::payments {

void ReconciledPaymentSettler::on_change(pqxx::transaction_base& tx,
                                         const gateways::ReconcileChange& change) {
    // A credit refund (payments.refund_credit) left unknown: posted once when it turns out to
    // have succeeded; its reserved credit given back once when it failed (or never arrived).
    if (change.table == "refunds" && change.new_status != change.old_status &&
        billing::CreditRefundRecorder::is_credit_refund(tx, change.id)) {
        if (change.new_status == "succeeded")
            billing::CreditRefundRecorder::record_succeeded(tx, change.id);
        if (change.new_status == "failed") billing::CreditRefundRecorder::record_failed(tx, change.id);
        return;
    }
    if (change.new_status != "succeeded" || change.old_status == "succeeded") return;
    if (change.table == "payments") billing::PaymentRecorder::record_resolved(tx, change.id);
    // A refund left unknown that did happen: its credit note and ledger, once.
    if (change.table == "refunds") billing::RefundRecorder::record_resolved(tx, change.id);
}

void ReconciledPaymentSettler::attach(gateways::PaymentReconciler& reconciler) {
    reconciler.on_change(&ReconciledPaymentSettler::on_change);
}

}  // namespace artistsaid::payments
