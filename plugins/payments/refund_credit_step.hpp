// payments.refund_credit: the step form of CreditRefundIssuer (credit_refund_issuer.hpp):
// a client's credit balance paid back through the gateway of the payments that overpaid.
#pragma once

#include "engine/runtime/step_plugin.hpp"
#include "plugins/payments/payments_context.hpp"

namespace artistsaid::payments {

/// The step's idempotency key is the request's key: a retried or redelivered step reports the
/// stored outcome and calls no gateway; outcomes left unknown are for `payments reconcile`.
class RefundCreditStep final : public runtime::StepPlugin {
public:
    explicit RefundCreditStep(PaymentsContext context) : context_(std::move(context)) {}
    const workflow::StepTypeDescriptor& descriptor() const override;
    runtime::StepResult run(const runtime::StepCall& call) override;

private:
    PaymentsContext context_;
};

}  // namespace artistsaid::payments
