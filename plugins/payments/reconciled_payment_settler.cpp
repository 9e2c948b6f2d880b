#include "plugins/payments/reconciled_payment_settler.hpp"

#include "plugins/billing/payment_recorder.hpp"
#include "plugins/billing/refund_recorder.hpp"

namespace artistsaid::payments {

void ReconciledPaymentSettler::on_change(pqxx::transaction_base& tx,
                                         const gateways::ReconcileChange& change) {
    if (change.new_status != "succeeded" || change.old_status == "succeeded") return;
    if (change.table == "payments") billing::PaymentRecorder::record_resolved(tx, change.id);
    // A refund left unknown that did happen: its credit note and ledger, once.
    if (change.table == "refunds") billing::RefundRecorder::record_resolved(tx, change.id);
}

void ReconciledPaymentSettler::attach(gateways::PaymentReconciler& reconciler) {
    reconciler.on_change(&ReconciledPaymentSettler::on_change);
}

}  // namespace artistsaid::payments
