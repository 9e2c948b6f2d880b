#include "plugins/billing/void_credit_note_step.hpp"

#include "engine/core/error.hpp"
#include "plugins/billing/credit_note_voider.hpp"
#include "plugins/billing/step_inputs.hpp"

namespace artistsaid::billing {

using workflow::ValueType;

const workflow::StepTypeDescriptor& VoidCreditNoteStep::descriptor() const {
    static const workflow::StepTypeDescriptor d{
        "billing.void_credit_note",
        "Void a credit note issued in error that moved no money out (its client credit still "
        "unused, or its invoice still open): status void, a reversing ledger transaction, the "
        "credit taken back or the invoice's balance restored. A refund's credit note cannot be "
        "voided; voiding twice changes nothing.",
        {{"number", ValueType::kString, true, "the credit note, CN-00000001", {}},
         {"reason", ValueType::kString, false, "why it is voided", {}}},
        {{"credit_note_id", ValueType::kInteger, false, "the credit note", {}},
         {"number", ValueType::kString, false, "its number (kept: numbers stay gap-free)", {}},
         {"kind", ValueType::kString, false, "client_credit or invoice", {}},
         {"invoice_id", ValueType::kInteger, false, "its invoice", {}},
         {"currency", ValueType::kString, false, "ISO 4217 code", {}},
         {"subtotal", ValueType::kInteger, false, "net minor units", {}},
         {"tax", ValueType::kInteger, false, "tax minor units", {}},
         {"total", ValueType::kInteger, false, "the amount reversed", {}},
         {"status", ValueType::kString, false, "void", {}},
         {"voided_at", ValueType::kString, false, "when (UTC)", {}},
         {"void_reason", ValueType::kString, false, "why", {}},
         {"invoice_status", ValueType::kString, false, "the invoice's status", {}},
         {"credit_balance", ValueType::kInteger, false, "the client's credit after", {}},
         {"already_void", ValueType::kBoolean, false, "it was void before: nothing changed", {}},
         {"message", ValueType::kString, false, "what happened", {}}}};
    return d;
}

runtime::StepResult VoidCreditNoteStep::run(const runtime::StepCall& call) {
    StepInputs in("billing.void_credit_note", call.with);
    const std::string number = in.text("number", "");
    if (number.empty()) throw InputError("billing.void_credit_note: 'number' is required");
    auto conn = connect_();
    return runtime::StepResult::success(
        CreditNoteVoider::void_now(*conn, number, in.text("reason", "")));
}

}  // namespace artistsaid::billing
