// payments.settle: a provider's payment event (webhook) settles the invoice it concerns.
#pragma once

#include "engine/runtime/step_plugin.hpp"
#include "plugins/payments/payments_context.hpp"

namespace artistsaid::payments {

/// Finds our payment by the provider's id (or our idempotency key from the event's metadata)
/// and, if it is still unknown or pending, resolves it by asking the gateway (lookup) — the
/// event's payload is a hint, never the truth, so a forged or replayed event cannot mark an
/// invoice paid. The invoice and ledger consequences are posted once, by the same code as the
/// reconciler (ReconciledPaymentSettler). An event for a payment we do not know is reported
/// (`matched: false`), not an error.
class SettlePaymentStep final : public runtime::StepPlugin {
public:
    explicit SettlePaymentStep(PaymentsContext context) : context_(std::move(context)) {}
    const workflow::StepTypeDescriptor& descriptor() const override;
    runtime::StepResult run(const runtime::StepCall& call) override;

private:
    PaymentsContext context_;
};

}  // namespace artistsaid::payments
