// billing.credit_note: the step form of CreditNoteIssuer (credit_note_issuer.hpp) for a
// credit note without money movement (goodwill, a cancelled service).
#pragma once

#include "plugins/billing/billing_steps.hpp"

namespace artistsaid::billing {

class CreditNoteStep final : public runtime::StepPlugin {
public:
    explicit CreditNoteStep(ConnectionFactory connect) : connect_(std::move(connect)) {}
    const workflow::StepTypeDescriptor& descriptor() const override;
    runtime::StepResult run(const runtime::StepCall& call) override;

private:
    ConnectionFactory connect_;
};

}  // namespace artistsaid::billing
