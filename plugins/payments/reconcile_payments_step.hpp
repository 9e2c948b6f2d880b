// payments.reconcile: one pass of the PaymentReconciler (gateways/reconcile) as a step —
// payments, refunds and payouts whose outcome is unknown or pending, older than `min_age`,
// are looked up at their gateway (never charged again); a charge found succeeded settles its
// invoice once (ReconciledPaymentSettler). The billing cycle runs it after charging, as
// Kill Bill's Janitor runs on a schedule. Safe to repeat: a resolved row is not looked at
// again.
#pragma once

#include "engine/runtime/step_plugin.hpp"
#include "plugins/payments/payments_context.hpp"

namespace artistsaid::payments {

class ReconcilePaymentsStep final : public runtime::StepPlugin {
public:
    explicit ReconcilePaymentsStep(PaymentsContext context) : context_(std::move(context)) {}
    const workflow::StepTypeDescriptor& descriptor() const override;
    runtime::StepResult run(const runtime::StepCall& call) override;

private:
    PaymentsContext context_;
};

}  // namespace artistsaid::payments
