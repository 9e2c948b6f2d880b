#include "plugins/billing/proration.hpp"

#include <string>

#include "engine/core/error.hpp"

namespace artistsaid::billing {

Money prorate(const Money& period_price, const BillingPeriod& period, long long days,
              RoundingMode mode) {
    const long long total = period.days();
    if (total <= 0) throw InputError("cannot prorate over an empty period");
    if (days < 0 || days > total)
        throw InputError("cannot prorate " + std::to_string(days) + " days of a " +
                         std::to_string(total) + "-day period");
    return Money(divide_rounded(static_cast<Int128>(period_price.minor_units()) * days, total, mode),
                 period_price.currency());
}

PlanChange change_plan(const Money& old_price, const Money& new_price,
                       const BillingPeriod& period, Date change_date, RoundingMode mode) {
    if (old_price.currency() != new_price.currency())
        throw InputError("a plan change cannot switch currency (" +
                         std::string(old_price.currency().code()) + " to " +
                         std::string(new_price.currency().code()) + ")");
    if (!period.contains(change_date))
        throw InputError("change date " + format_date(change_date) + " is outside the period " +
                         format_date(period.start) + " – " + format_date(period.end));
    PlanChange change{Money::zero(old_price.currency()), Money::zero(old_price.currency())};
    change.period_days = period.days();
    change.remaining_days = (period.end - change_date).count();
    change.credit = -prorate(old_price, period, change.remaining_days, mode);
    change.charge = prorate(new_price, period, change.remaining_days, mode);
    return change;
}

}  // namespace artistsaid::billing
