// payments.refund: the step form of RefundIssuer (refund_issuer.hpp).
#pragma once

#include "engine/runtime/step_plugin.hpp"
#include "plugins/payments/payments_context.hpp"

namespace artistsaid::payments {

/// A failed refund (the gateway refused it) is data (outputs.status = failed), unless
/// `fail_on_error` is set; an unknown outcome is left to `payments reconcile`.
class RefundPaymentStep final : public runtime::StepPlugin {
public:
    explicit RefundPaymentStep(PaymentsContext context) : context_(std::move(context)) {}
    const workflow::StepTypeDescriptor& descriptor() const override;
    runtime::StepResult run(const runtime::StepCall& call) override;

private:
    PaymentsContext context_;
};

}  // namespace artistsaid::payments
