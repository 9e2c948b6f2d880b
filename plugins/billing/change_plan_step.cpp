#include "plugins/billing/change_plan_step.hpp"

#include <limits>

#include "plugins/billing/plan_changer.hpp"
#include "plugins/billing/step_inputs.hpp"

namespace artistsaid::billing {

using workflow::ValueType;

const workflow::StepTypeDescriptor& ChangePlanStep::descriptor() const {
    static const workflow::StepTypeDescriptor d{
        "billing.change_plan",
        "Change a subscription's service and/or price from a day of its current period, in one "
        "transaction, recording the proration (old plan's unused days credited, new plan's "
        "charged) as pending lines the next billing.generate_invoices bills once.",
        {{"subscription_id", ValueType::kInteger, true, "the subscription", {}},
         {"service", ValueType::kString, false, "the new service's code", {}},
         {"price",
          ValueType::kString,
          false,
          "the new price per period as decimal text (\"12.50\"; JPY \"1200\")",
          {}},
         {"on", ValueType::kDate, true, "the day the new plan starts", {}},
         {"rounding", ValueType::kString, false, "proration rounding (default half_up)", {}},
         {"dry_run", ValueType::kBoolean, false, "compute and roll back", {}}},
        {{"billing_run_id", ValueType::kInteger, false, "the billing_runs row", {}},
         {"subscription_id", ValueType::kInteger, false, "the subscription", {}},
         {"currency", ValueType::kString, false, "ISO 4217 code", {}},
         {"change_date", ValueType::kString, false, "the day of the change", {}},
         {"period_start", ValueType::kString, false, "the current period", {}},
         {"period_end", ValueType::kString, false, "its exclusive end (next due date)", {}},
         {"period_days", ValueType::kInteger, false, "days in the period", {}},
         {"remaining_days", ValueType::kInteger, false, "days prorated", {}},
         {"billed", ValueType::kBoolean, false, "the current period had been billed", {}},
         {"old", ValueType::kObject, false, "{service, amount}", {}},
         {"new", ValueType::kObject, false, "{service, amount}", {}},
         {"credit", ValueType::kInteger, false, "the old plan's unused days (<= 0)", {}},
         {"charge", ValueType::kInteger, false, "the new plan's remaining days (>= 0)", {}},
         {"net", ValueType::kInteger, false, "credit + charge", {}},
         {"adjustments", ValueType::kArray, false, "the pending lines' ids", {}},
         {"replayed", ValueType::kBoolean, false, "this key had made the change before", {}},
         {"dry_run", ValueType::kBoolean, false, "nothing was written", {}}}};
    return d;
}

runtime::StepResult ChangePlanStep::run(const runtime::StepCall& call) {
    StepInputs in("billing.change_plan", call.with);
    PlanChangeOptions o;
    o.subscription_id = in.integer("subscription_id", 0, 1, std::numeric_limits<long long>::max());
    if (!in.raw("service").is_null()) o.service_code = in.text("service", "");
    if (!in.raw("price").is_null()) o.price = in.text("price", "");
    o.on = in.date("on");
    o.rounding = in.rounding("rounding");
    o.dry_run = in.boolean("dry_run", false);
    o.idempotency_key = call.idempotency_key;
    auto conn = connect_();
    return runtime::StepResult::success(PlanChanger().change(*conn, o));
}

}  // namespace artistsaid::billing
