#include "plugins/billing/dunning_step.hpp"

#include "plugins/billing/dunning_runner.hpp"
#include "plugins/billing/step_inputs.hpp"

namespace artistsaid::billing {

using workflow::ValueType;

const workflow::StepTypeDescriptor& DunningStep::descriptor() const {
    static const workflow::StepTypeDescriptor d{
        "billing.dunning",
        "Reminders and overdue notices due today (once per invoice), suspension after N days, "
        "termination after M days, unsuspension once paid.",
        {{"as_of", ValueType::kDate, true, "the day to act for", {}},
         {"notices", ValueType::kArray, false,
          "[{name, days}] relative to the due date, e.g. {name: overdue_1, days: 1}", {}},
         {"suspend_after_days", ValueType::kInteger, false, "suspend after this many days", {}},
         {"terminate_after_days", ValueType::kInteger, false, "terminate after this many", {}}},
        {{"notices", ValueType::kAny, false,
          "collection handle of the notices due (items: invoice_id, number, client_id, email, "
          "name, locale, notice, days_from_due, balance_due, balance (formatted), currency, "
          "due_date) for an email for_each", {}},
         {"notice_count", ValueType::kInteger, false, "notices due", {}},
         {"suspended", ValueType::kInteger, false, "subscriptions suspended", {}},
         {"terminated", ValueType::kInteger, false, "subscriptions terminated", {}},
         {"unsuspended", ValueType::kInteger, false, "subscriptions unsuspended (paid)", {}},
         {"billing_run_id", ValueType::kInteger, false, "the billing_runs row", {}},
         {"replayed", ValueType::kBoolean, false, "this execution had already happened", {}}}};
    return d;
}

runtime::StepResult DunningStep::run(const runtime::StepCall& call) {
    StepInputs in("billing.dunning", call.with);
    const Date as_of = in.date("as_of");
    const auto policy = DunningPolicy::from_json(call.with);
    auto conn = connect_();
    return runtime::StepResult::success(
        DunningRunner().run(*conn, as_of, policy, call.idempotency_key, call.run_id));
}

}  // namespace artistsaid::billing
