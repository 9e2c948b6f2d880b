#include "plugins/billing/billing_period.hpp"

#include <string>

#include "engine/core/error.hpp"
#include "engine/workflow/detail/calendar.hpp"

namespace artistsaid::billing {

using namespace std::chrono;

Date clamp_to_month(year y, month m, int billing_day) {
    if (billing_day < 1 || billing_day > 31)
        throw InputError("billing day " + std::to_string(billing_day) + " is not between 1 and 31");
    const auto last = year_month_day_last(y, month_day_last(m)).day();
    const auto d = std::min(day(static_cast<unsigned>(billing_day)), last);
    return sys_days(year_month_day(y, m, d));
}

namespace {

Date add_months(Date from, int months, int billing_day) {
    const year_month_day ymd(from);
    const year_month ym = year_month(ymd.year(), ymd.month()) + std::chrono::months(months);
    return clamp_to_month(ym.year(), ym.month(), billing_day);
}

}  // namespace

std::optional<Date> next_due_date(Date due, BillingCycle cycle, int billing_day) {
    const int months = cycle_months(cycle);
    if (months == 0) return std::nullopt;
    return add_months(due, months, billing_day);
}

BillingPeriod BillingPeriod::starting(Date start, BillingCycle cycle, int billing_day) {
    if (auto next = next_due_date(start, cycle, billing_day)) return {start, *next};
    return {start, start + std::chrono::days(1)};
}

BillingPeriod BillingPeriod::ending(Date end, BillingCycle cycle, int billing_day) {
    const int months = cycle_months(cycle);
    if (months == 0) return {end - std::chrono::days(1), end};
    return {add_months(end, -months, billing_day), end};
}

std::string format_date(Date day) { return workflow::detail::format_date(day); }

Date parse_date(std::string_view text, std::string_view what) {
    if (auto d = workflow::detail::parse_date(text)) return *d;
    throw InputError(std::string(what) + " is not a date (YYYY-MM-DD): '" + std::string(text) +
                     "'");
}

}  // namespace artistsaid::billing
