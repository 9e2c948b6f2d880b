// payments.charge: the step form of InvoiceCharger (invoice_charger.hpp).
#pragma once

#include "engine/runtime/step_plugin.hpp"
#include "plugins/payments/payments_context.hpp"

namespace artistsaid::payments {

/// A decline is data (outputs.status = declined, outputs.decline_code), not a failed step,
/// unless `fail_on_decline` is set; the dunning policy decides what happens next. An unknown
/// outcome is left to reconciliation and is not retried blindly: the next attempt (or run)
/// looks it up by the key first.
class ChargeInvoiceStep final : public runtime::StepPlugin {
public:
    explicit ChargeInvoiceStep(PaymentsContext context) : context_(std::move(context)) {}
    const workflow::StepTypeDescriptor& descriptor() const override;
    runtime::StepResult run(const runtime::StepCall& call) override;

private:
    PaymentsContext context_;
};

}  // namespace artistsaid::payments
