// Proration: what part of a period's price a partial period costs, and what a plan change
// in the middle of a paid period credits and charges.
//
// The rule is Kill Bill's: by days. A period [start, end) of D calendar days priced P
// costs P * d / D for d of its days, rounded once by the configured mode (half-up by
// default). D is the real length of that period (28 to 31 days for a monthly one, 90 to 92
// for a quarter), so a day costs slightly more in February than in March, as in Kill Bill.
//
// A change of plan on day `c` of a period that was paid in advance at the old price
// (Kill Bill's IMMEDIATE policy): the unused days [c, end) of the old plan are credited
// (a negative proration line) and the same days of the new plan are charged (a positive
// one), each rounded on its own; the next period bills the new price in full. An upgrade
// nets to a charge, a downgrade to a credit.
#pragma once

#include "engine/core/money.hpp"
#include "plugins/billing/billing_period.hpp"
#include "plugins/billing/rounding_mode.hpp"

namespace artistsaid::billing {

struct PlanChange {
    Money credit;  // <= 0: the old plan's unused days
    Money charge;  // >= 0: the new plan's remaining days
    long long remaining_days = 0;
    long long period_days = 0;
    Money net() const { return credit + charge; }
};

/// The price of `days` of the period. InputError unless 0 <= days <= period.days().
Money prorate(const Money& period_price, const BillingPeriod& period, long long days,
              RoundingMode mode = RoundingMode::kHalfUp);

/// Changing from `old_price` to `new_price` (same currency, per period) on `change_date`,
/// inside `period`. InputError if change_date is outside [start, end) or currencies differ.
PlanChange change_plan(const Money& old_price, const Money& new_price,
                       const BillingPeriod& period, Date change_date,
                       RoundingMode mode = RoundingMode::kHalfUp);

}  // namespace artistsaid::billing
