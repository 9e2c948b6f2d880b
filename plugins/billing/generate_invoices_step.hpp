// billing.generate_invoices: the step form of InvoiceGenerator (invoice_generator.hpp).
#pragma once

#include "plugins/billing/billing_steps.hpp"

namespace artistsaid::billing {

class GenerateInvoicesStep final : public runtime::StepPlugin {
public:
    explicit GenerateInvoicesStep(ConnectionFactory connect);
    const workflow::StepTypeDescriptor& descriptor() const override;
    runtime::StepResult run(const runtime::StepCall& call) override;

private:
    ConnectionFactory connect_;
};

}  // namespace artistsaid::billing
