#include "plugins/billing/apply_late_fees_step.hpp"

#include "engine/core/error.hpp"
#include "plugins/billing/late_fee_applier.hpp"
#include "plugins/billing/step_inputs.hpp"

namespace artistsaid::billing {

using workflow::ValueType;

const workflow::StepTypeDescriptor& ApplyLateFeesStep::descriptor() const {
    static const workflow::StepTypeDescriptor d{
        "billing.apply_late_fees",
        "Add the late fee (fixed or percent with a minimum) once to every invoice unpaid "
        "after_days days past its due date; balanced ledger transactions per currency.",
        {{"as_of", ValueType::kDate, true, "the day to apply fees for", {}},
         {"late_fee", ValueType::kObject, true,
          "{kind: fixed|percent, after_days, amounts: {USD: \"5.00\"} | percent: \"1.5\", "
          "minimum: {...}, maximum: {...}, rounding}", {}}},
        {{"fees_applied", ValueType::kInteger, false, "invoices that got a late fee", {}},
         {"totals", ValueType::kObject, false, "fees per currency (minor units)", {}},
         {"billing_run_id", ValueType::kInteger, false, "the billing_runs row", {}},
         {"replayed", ValueType::kBoolean, false, "this execution had already happened", {}}}};
    return d;
}

runtime::StepResult ApplyLateFeesStep::run(const runtime::StepCall& call) {
    StepInputs in("billing.apply_late_fees", call.with);
    const Date as_of = in.date("as_of");
    const auto policy = LateFeePolicy::from_json(in.raw("late_fee"));
    auto conn = connect_();
    return runtime::StepResult::success(
        LateFeeApplier().apply(*conn, as_of, policy, call.idempotency_key));
}

}  // namespace artistsaid::billing
