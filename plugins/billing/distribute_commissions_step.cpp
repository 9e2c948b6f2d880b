#include "plugins/billing/distribute_commissions_step.hpp"

#include "plugins/billing/commission_distributor.hpp"
#include "plugins/billing/late_fee_policy.hpp"
#include "plugins/billing/step_inputs.hpp"

namespace artistsaid::billing {

using workflow::ValueType;

const workflow::StepTypeDescriptor& DistributeCommissionsStep::descriptor() const {
    static const workflow::StepTypeDescriptor d{
        "commissions.distribute",
        "Split paid marketplace sales and bookings into platform commission, affiliate "
        "commission (pending, then cleared) and provider share; ledger per movement.",
        {{"as_of", ValueType::kDate, true, "orders paid up to this day; clearing day", {}},
         {"platform_percent", ValueType::kString, false,
          "the platform's commission as text, e.g. \"15\" (default 15; an order's own rate wins)",
          {}},
         {"clearing_days", ValueType::kInteger, false,
          "days an affiliate commission stays pending (default: each affiliate's own)", {}}},
        {{"split", ValueType::kInteger, false, "orders split", {}},
         {"cleared", ValueType::kInteger, false, "affiliate commissions cleared", {}},
         {"totals", ValueType::kObject, false,
          "per currency: gross, platform, affiliate, provider (minor units)", {}},
         {"billing_run_id", ValueType::kInteger, false, "the billing_runs row", {}},
         {"replayed", ValueType::kBoolean, false, "this execution had already happened", {}}}};
    return d;
}

runtime::StepResult DistributeCommissionsStep::run(const runtime::StepCall& call) {
    StepInputs in("commissions.distribute", call.with);
    CommissionOptions o;
    o.as_of = in.date("as_of");
    o.platform_ppm = parse_percent_ppm(in.text("platform_percent", "15"),
                                       "commissions.distribute: 'platform_percent'");
    if (!in.raw("clearing_days").is_null())
        o.clearing_days = static_cast<int>(in.integer("clearing_days", 0, 0, 3650));
    o.idempotency_key = call.idempotency_key;
    auto conn = connect_();
    return runtime::StepResult::success(CommissionDistributor().distribute(*conn, o));
}

}  // namespace artistsaid::billing
