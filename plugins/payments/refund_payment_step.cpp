#include "plugins/payments/refund_payment_step.hpp"

#include <limits>

#include "plugins/billing/step_inputs.hpp"
#include "plugins/payments/refund_issuer.hpp"

namespace artistsaid::payments {

using workflow::ValueType;

const workflow::StepTypeDescriptor& RefundPaymentStep::descriptor() const {
    static const workflow::StepTypeDescriptor d{
        "payments.refund",
        "Refund a succeeded payment (all that is left, or `amount`) through its gateway with the "
        "step's idempotency key; on success issue a credit note, post the ledger and mark the "
        "invoice refunded when fully refunded. Never more than was paid; unknown outcomes are "
        "resolved by `payments reconcile`.",
        {{"payment_id", ValueType::kInteger, false, "the payment to refund", {}},
         {"invoice_id",
          ValueType::kInteger,
          false,
          "or the invoice: its newest succeeded payment that covers the amount",
          {}},
         {"amount",
          ValueType::kInteger,
          false,
          "minor units to refund (default: everything still refundable)",
          {}},
         {"reason", ValueType::kString, false, "why (on the credit note)", {}},
         {"fail_on_error",
          ValueType::kBoolean,
          false,
          "a refused refund fails the step (not retried) instead of being reported",
          {}}},
        {{"refund_id", ValueType::kInteger, false, "the refunds row", {}},
         {"payment_id", ValueType::kInteger, false, "the payment refunded", {}},
         {"invoice_id", ValueType::kInteger, false, "its invoice", {}},
         {"status", ValueType::kString, false, "succeeded, pending, failed, unknown", {}},
         {"amount", ValueType::kInteger, false, "minor units", {}},
         {"currency", ValueType::kString, false, "ISO 4217 code", {}},
         {"gateway", ValueType::kString, false, "the payment's gateway", {}},
         {"error", ValueType::kString, false, "why it failed", {}},
         {"credit_note_id", ValueType::kAny, false, "the credit note (null until succeeded)", {}},
         {"credit_note_number", ValueType::kAny, false, "its number, CN-00000001", {}},
         {"invoice_status", ValueType::kString, false, "paid, or refunded once fully refunded", {}},
         {"refunded", ValueType::kBoolean, false, "this attempt called the gateway", {}},
         {"replayed", ValueType::kBoolean, false, "an earlier attempt made this refund", {}}}};
    return d;
}

runtime::StepResult RefundPaymentStep::run(const runtime::StepCall& call) {
    billing::StepInputs in("payments.refund", call.with);
    constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
    RefundOptions o;
    o.payment_id = in.integer("payment_id", 0, 0, kMax);
    o.invoice_id = in.integer("invoice_id", 0, 0, kMax);
    if (!in.raw("amount").is_null()) o.amount = in.integer("amount", 0, 1, kMax);
    o.reason = in.text("reason", "");
    o.idempotency_key = call.idempotency_key;
    o.deadline = call.deadline;
    const bool fail_on_error = in.boolean("fail_on_error", false);
    auto out = RefundIssuer(context_).refund(o);
    if (fail_on_error && out["status"] == "failed")
        return runtime::StepResult::failure(
            "refund " + out["refund_id"].dump() + " failed: " + out["error"].get<std::string>(),
            false);
    return runtime::StepResult::success(std::move(out));
}

}  // namespace artistsaid::payments
