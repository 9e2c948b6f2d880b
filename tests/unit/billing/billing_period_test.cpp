#include <doctest/doctest.h>

#include "engine/core/error.hpp"
#include "plugins/billing/billing_period.hpp"

using namespace artistsaid;
using namespace artistsaid::billing;

namespace {
Date d(const char* text) { return parse_date(text, "test date"); }
}  // namespace

TEST_CASE("Billing.Period.MonthEndClampsAndReturnsToTheBillingDay") {
    // Billing day 31: Jan 31 -> Feb 28 -> Mar 31 -> Apr 30 -> May 31 (no drift to the 28th).
    Date due = d("2025-01-31");
    const char* expected[] = {"2025-02-28", "2025-03-31", "2025-04-30", "2025-05-31",
                              "2025-06-30"};
    for (const char* e : expected) {
        due = *next_due_date(due, BillingCycle::kMonthly, 31);
        CHECK(format_date(due) == e);
    }
}

TEST_CASE("Billing.Period.LeapYearFebruaryGetsThe29th") {
    CHECK(format_date(*next_due_date(d("2024-01-31"), BillingCycle::kMonthly, 31)) == "2024-02-29");
    CHECK(format_date(*next_due_date(d("2024-01-30"), BillingCycle::kMonthly, 30)) == "2024-02-29");
    CHECK(format_date(*next_due_date(d("2023-01-29"), BillingCycle::kMonthly, 29)) == "2023-02-28");
    CHECK(format_date(*next_due_date(d("2024-02-29"), BillingCycle::kAnnual, 29)) == "2025-02-28");
    CHECK(format_date(*next_due_date(d("2025-02-28"), BillingCycle::kAnnual, 29)) == "2026-02-28");
    CHECK(format_date(*next_due_date(d("2027-02-28"), BillingCycle::kAnnual, 29)) == "2028-02-29");
}

TEST_CASE("Billing.Period.EveryCycleAdvancesByItsMonths") {
    CHECK(format_date(*next_due_date(d("2025-11-30"), BillingCycle::kQuarterly, 30)) == "2026-02-28");
    CHECK(format_date(*next_due_date(d("2026-02-28"), BillingCycle::kQuarterly, 30)) == "2026-05-30");
    CHECK(format_date(*next_due_date(d("2025-08-31"), BillingCycle::kSemiannual, 31)) == "2026-02-28");
    CHECK(format_date(*next_due_date(d("2025-12-15"), BillingCycle::kAnnual, 15)) == "2026-12-15");
    CHECK(format_date(*next_due_date(d("2025-12-01"), BillingCycle::kMonthly, 1)) == "2026-01-01");
    CHECK_FALSE(next_due_date(d("2025-12-01"), BillingCycle::kOneOff, 1).has_value());
}

TEST_CASE("Billing.Period.StartingAndEndingAreInverse") {
    for (int day : {1, 15, 28, 29, 30, 31}) {
        for (auto cycle : {BillingCycle::kMonthly, BillingCycle::kQuarterly,
                           BillingCycle::kSemiannual, BillingCycle::kAnnual}) {
            Date start = clamp_to_month(std::chrono::year(2023), std::chrono::month(1), day);
            for (int i = 0; i < 30; ++i) {
                auto p = BillingPeriod::starting(start, cycle, day);
                CHECK(p.days() > 27);
                CHECK(BillingPeriod::ending(p.end, cycle, day) == p);
                start = p.end;
            }
        }
    }
}

TEST_CASE("Billing.Period.LengthsAreCalendarDays") {
    CHECK(BillingPeriod::starting(d("2025-02-01"), BillingCycle::kMonthly, 1).days() == 28);
    CHECK(BillingPeriod::starting(d("2024-02-01"), BillingCycle::kMonthly, 1).days() == 29);
    CHECK(BillingPeriod::starting(d("2025-01-01"), BillingCycle::kAnnual, 1).days() == 365);
    CHECK(BillingPeriod::starting(d("2024-01-01"), BillingCycle::kAnnual, 1).days() == 366);
    CHECK(BillingPeriod::starting(d("2025-01-01"), BillingCycle::kQuarterly, 1).days() == 90);
    auto one_off = BillingPeriod::starting(d("2025-03-10"), BillingCycle::kOneOff, 10);
    CHECK(one_off.days() == 1);
}

TEST_CASE("Billing.Period.BadInputIsRefused") {
    CHECK_THROWS_AS(clamp_to_month(std::chrono::year(2025), std::chrono::month(1), 0), InputError);
    CHECK_THROWS_AS(clamp_to_month(std::chrono::year(2025), std::chrono::month(1), 32), InputError);
    CHECK_THROWS_AS(parse_date("2025-02-30", "as_of"), InputError);
    CHECK_THROWS_AS(parse_date("tomorrow", "as_of"), InputError);
    CHECK(parse_billing_cycle("semiannual") == BillingCycle::kSemiannual);
    CHECK_FALSE(parse_billing_cycle("weekly").has_value());
}
