#include "plugins/payments/payments_steps.hpp"

#include "plugins/payments/charge_batch_step.hpp"
#include "plugins/payments/charge_invoice_step.hpp"
#include "plugins/payments/collect_due_step.hpp"
#include "plugins/payments/reconcile_payments_step.hpp"
#include "plugins/payments/refund_credit_step.hpp"
#include "plugins/payments/refund_payment_step.hpp"
#include "plugins/payments/settle_payment_step.hpp"

namespace artistsaid::payments {

void register_payments_steps(runtime::StepRegistry& registry, const PaymentsContext& context) {
    registry.add(std::make_unique<ChargeInvoiceStep>(context));
    registry.add(std::make_unique<SettlePaymentStep>(context));
    registry.add(std::make_unique<ReconcilePaymentsStep>(context));
    registry.add(std::make_unique<CollectDueStep>(context));
    registry.add(std::make_unique<RefundPaymentStep>(context));
    registry.add(std::make_unique<ChargeBatchStep>(context));
    registry.add(std::make_unique<RefundCreditStep>(context));
}

}  // namespace artistsaid::payments
