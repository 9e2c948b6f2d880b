#include "plugins/payments/charge_invoice_step.hpp"

#include <limits>

#include "plugins/billing/billing_period.hpp"
#include "plugins/billing/step_inputs.hpp"
#include "plugins/payments/invoice_charger.hpp"

namespace artistsaid::payments {

using workflow::ValueType;

const workflow::StepTypeDescriptor& ChargeInvoiceStep::descriptor() const {
    static const workflow::StepTypeDescriptor d{
        "payments.charge",
        "Charge an invoice's balance through the client's gateway (routing per client and "
        "currency) with the step's idempotency key; record the payment and its ledger "
        "transaction; unknown outcomes are reconciled by lookup, never charged twice.",
        {{"invoice_id", ValueType::kInteger, true, "the invoice to charge", {}},
         {"fail_on_decline", ValueType::kBoolean, false,
          "a decline fails the step (not retried) instead of being reported (default false)",
          {}},
         {"dry_run", ValueType::kBoolean, false,
          "call no gateway and write nothing: outputs say what would be charged", {}},
         {"collection_day", ValueType::kDate, false,
          "the day of the collection schedule (payments.collect_due): one attempt per invoice "
          "and day, a re-run of the day reports the first", {}}},
        {{"invoice_id", ValueType::kInteger, false, "the invoice", {}},
         {"status", ValueType::kString, false,
          "succeeded, declined, failed, pending, unknown (left to reconciliation), "
          "nothing_due, not_collectable, no_payment_method, would_charge (dry run)", {}},
         {"payment_id", ValueType::kAny, false, "the payments row (null if none)", {}},
         {"amount", ValueType::kInteger, false, "amount charged (minor units)", {}},
         {"currency", ValueType::kString, false, "ISO 4217 code", {}},
         {"gateway", ValueType::kString, false, "the gateway routing chose", {}},
         {"decline_code", ValueType::kString, false, "why the issuer declined", {}},
         {"error", ValueType::kString, false, "the gateway's reason for a failure", {}},
         {"invoice_paid", ValueType::kBoolean, false, "the invoice is now paid", {}},
         {"charged", ValueType::kBoolean, false, "this attempt called the gateway's charge", {}},
         {"replayed", ValueType::kBoolean, false,
          "an earlier attempt had recorded this payment (its outcome is reported)", {}},
         {"reconciled", ValueType::kBoolean, false,
          "this attempt resolved an unknown outcome by lookup", {}},
         {"dry_run", ValueType::kBoolean, false, "nothing was written or charged", {}}}};
    return d;
}

runtime::StepResult ChargeInvoiceStep::run(const runtime::StepCall& call) {
    billing::StepInputs in("payments.charge", call.with);
    ChargeOptions o;
    o.invoice_id = in.integer("invoice_id", 0, 1, std::numeric_limits<std::int64_t>::max());
    o.dry_run = in.boolean("dry_run", false);
    if (!in.text("collection_day", "").empty())
        o.collection_day = billing::format_date(in.date("collection_day"));
    const bool fail_on_decline = in.boolean("fail_on_decline", false);
    o.idempotency_key = call.idempotency_key;
    o.deadline = call.deadline;
    auto out = InvoiceCharger(context_).charge(o);
    if (fail_on_decline && out["status"] == "declined") {
        return runtime::StepResult::failure(
            "invoice " + std::to_string(o.invoice_id) + " declined: " +
                out["decline_code"].get<std::string>(),
            false);
    }
    return runtime::StepResult::success(std::move(out));
}

}  // namespace artistsaid::payments
