// BillingPeriod: the half-open range of days [start, end) one invoice line of a
// subscription pays for, and the calendar rules that produce it.
//
// Month-end clamping: a subscription renews on its billing day; in a month without that
// day it renews on the month's last day, and the next month returns to the billing day
// (billing day 31: Jan 31 -> Feb 28 (29 in a leap year) -> Mar 31 -> Apr 30). The next due
// date is always computed from the billing day, never from the previous (clamped) date, so
// a clamp never drifts. The SQL functions billing_add_cycle() and billing_period_end() of
// migrations/0007_billing.sql follow the same rules (tested against each other).
//
// A one-off "period" is the single day it is billed for: [start, start + 1 day); it has no
// next due date.
#pragma once

#include <chrono>
#include <optional>

#include "plugins/billing/billing_cycle.hpp"

namespace artistsaid::billing {

using Date = std::chrono::sys_days;

/// The date in (year, month) on `billing_day`, or on the month's last day if it is shorter.
/// Throws InputError unless 1 <= billing_day <= 31.
Date clamp_to_month(std::chrono::year year, std::chrono::month month, int billing_day);

/// The due date one cycle after `due`: `months` later on the billing day (clamped).
/// nullopt for one_off.
std::optional<Date> next_due_date(Date due, BillingCycle cycle, int billing_day);

struct BillingPeriod {
    Date start;
    Date end;  // exclusive

    /// The period that starts on `start` (a due date) for this cycle and billing day.
    static BillingPeriod starting(Date start, BillingCycle cycle, int billing_day);
    /// The period that ends on `end` (exclusive): the previous period of a due date, the
    /// one whose usage is billed in arrears. For one_off: the day before `end`.
    static BillingPeriod ending(Date end, BillingCycle cycle, int billing_day);

    /// Number of days in [start, end).
    long long days() const noexcept { return (end - start).count(); }
    bool contains(Date day) const noexcept { return day >= start && day < end; }
    friend bool operator==(const BillingPeriod&, const BillingPeriod&) = default;
};

/// "YYYY-MM-DD" of a date, and back (InputError naming `what` for anything else).
std::string format_date(Date day);
Date parse_date(std::string_view text, std::string_view what);

}  // namespace artistsaid::billing
