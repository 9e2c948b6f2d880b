// billing.void_credit_note: the step form of CreditNoteVoider (credit_note_voider.hpp): a
// credit note issued in error, that moved no money out, voided with a reversing transaction.
#pragma once

#include "plugins/billing/billing_steps.hpp"

namespace artistsaid::billing {

/// Idempotent by nature: voiding a void note changes nothing (already_void: true), so a retry
/// or redelivery of the step is harmless.
class VoidCreditNoteStep final : public runtime::StepPlugin {
public:
    explicit VoidCreditNoteStep(ConnectionFactory connect) : connect_(std::move(connect)) {}
    const workflow::StepTypeDescriptor& descriptor() const override;
    runtime::StepResult run(const runtime::StepCall& call) override;

private:
    ConnectionFactory connect_;
};

}  // namespace artistsaid::billing
