#include "plugins/payments/reconciled_payment_settler.hpp"

#include "plugins/billing/payment_recorder.hpp"

namespace artistsaid::payments {

void ReconciledPaymentSettler::on_change(pqxx::transaction_base& tx,
                                         const gateways::ReconcileChange& change) {
    if (change.table != "payments" || change.new_status != "succeeded" ||
        change.old_status == "succeeded")
        return;
    billing::PaymentRecorder::record_resolved(tx, change.id);
}

void ReconciledPaymentSettler::attach(gateways::PaymentReconciler& reconciler) {
    reconciler.on_change(&ReconciledPaymentSettler::on_change);
}

}  // namespace artistsaid::payments
