#include "plugins/payments/refund_credit_step.hpp"

#include <limits>

#include "plugins/billing/step_inputs.hpp"
#include "plugins/payments/credit_refund_issuer.hpp"

namespace artistsaid::payments {

using workflow::ValueType;

const workflow::StepTypeDescriptor& RefundCreditStep::descriptor() const {
    static const workflow::StepTypeDescriptor d{
        "payments.refund_credit",
        "Pay (part of) a client's credit balance back through the gateway, against the "
        "succeeded payments whose overpayment made that credit, newest first: never more than "
        "the balance nor than each payment's overpayment less its earlier credit refunds. "
        "Write-ahead, once per idempotency key; unknown outcomes are resolved by `payments "
        "reconcile`.",
        {{"client_id", ValueType::kInteger, true, "the client", {}},
         {"currency", ValueType::kString, true, "the credit's currency (ISO 4217)", {}},
         {"amount", ValueType::kInteger, true, "minor units to refund", {}},
         {"reason", ValueType::kString, false, "why", {}},
         {"fail_on_error",
          ValueType::kBoolean,
          false,
          "a refused refund (failed or partial) fails the step (not retried) instead of being "
          "reported",
          {}}},
        {{"client_id", ValueType::kInteger, false, "the client", {}},
         {"currency", ValueType::kString, false, "ISO 4217 code", {}},
         {"amount", ValueType::kInteger, false, "minor units asked for", {}},
         {"status",
          ValueType::kString,
          false,
          "succeeded, pending, unknown, failed, partial (some payments refunded, others not)",
          {}},
         {"refunded_amount", ValueType::kInteger, false, "minor units refunded (succeeded)", {}},
         {"refunds",
          ValueType::kArray,
          false,
          "one per payment: {refund_id, payment_id, invoice_id, gateway, amount, status, error}",
          {}},
         {"credit_balance", ValueType::kInteger, false, "the client's credit after", {}},
         {"refunded", ValueType::kBoolean, false, "this attempt called the gateway", {}},
         {"replayed", ValueType::kBoolean, false, "an earlier attempt made this request", {}}}};
    return d;
}

runtime::StepResult RefundCreditStep::run(const runtime::StepCall& call) {
    billing::StepInputs in("payments.refund_credit", call.with);
    constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
    CreditRefundOptions o;
    o.client_id = in.integer("client_id", 0, 1, kMax);
    o.currency = in.text("currency", "");
    o.amount = in.integer("amount", 0, 1, kMax);
    o.reason = in.text("reason", "");
    o.idempotency_key = call.idempotency_key;
    o.deadline = call.deadline;
    const bool fail_on_error = in.boolean("fail_on_error", false);
    auto out = CreditRefundIssuer(context_).refund(o);
    if (fail_on_error && (out["status"] == "failed" || out["status"] == "partial"))
        return runtime::StepResult::failure(
            "credit refund " + o.idempotency_key + " " + out["status"].get<std::string>(), false);
    return runtime::StepResult::success(std::move(out));
}

}  // namespace artistsaid::payments
