#include "plugins/billing/credit_note_step.hpp"

#include <limits>

#include "engine/core/error.hpp"
#include "plugins/billing/credit_note_issuer.hpp"
#include "plugins/billing/step_inputs.hpp"

namespace artistsaid::billing {

using workflow::ValueType;

const workflow::StepTypeDescriptor& CreditNoteStep::descriptor() const {
    static const workflow::StepTypeDescriptor d{
        "billing.credit_note",
        "Issue a credit note against an invoice without moving money: to the client's credit "
        "balance (to_credit) or off the invoice's open balance; gap-free number, its share of "
        "the invoice's tax, one balanced ledger transaction; once per idempotency key.",
        {{"invoice_id", ValueType::kInteger, true, "the invoice credited", {}},
         {"amount", ValueType::kInteger, true, "minor units, tax included", {}},
         {"reason", ValueType::kString, true, "why (goodwill, cancelled service, ...)", {}},
         {"to_credit",
          ValueType::kBoolean,
          false,
          "credit the client's balance (default false: the invoice's open balance)",
          {}}},
        {{"credit_note_id", ValueType::kInteger, false, "the credit note", {}},
         {"number", ValueType::kString, false, "CN-00000001", {}},
         {"invoice_id", ValueType::kInteger, false, "the invoice", {}},
         {"currency", ValueType::kString, false, "ISO 4217 code", {}},
         {"subtotal", ValueType::kInteger, false, "net minor units", {}},
         {"tax", ValueType::kInteger, false, "tax minor units", {}},
         {"total", ValueType::kInteger, false, "the amount credited", {}},
         {"status", ValueType::kString, false, "applied", {}},
         {"invoice_status", ValueType::kString, false, "the invoice's status after", {}},
         {"replayed", ValueType::kBoolean, false, "this key had issued the note before", {}}}};
    return d;
}

runtime::StepResult CreditNoteStep::run(const runtime::StepCall& call) {
    StepInputs in("billing.credit_note", call.with);
    constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
    CreditNoteRequest q;
    q.invoice_id = in.integer("invoice_id", 0, 1, kMax);
    q.amount = in.integer("amount", 0, 1, kMax);
    q.reason = in.text("reason", "");
    if (q.reason.empty()) throw InputError("billing.credit_note: 'reason' is required");
    q.target = in.boolean("to_credit", false) ? CreditNoteTarget::kClientCredit
                                              : CreditNoteTarget::kInvoice;
    q.idempotency_key = call.idempotency_key;
    auto conn = connect_();
    return runtime::StepResult::success(
        CreditNoteIssuer::to_json(CreditNoteIssuer::issue_now(*conn, q), q.invoice_id));
}

}  // namespace artistsaid::billing
