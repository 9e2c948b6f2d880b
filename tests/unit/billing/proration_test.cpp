#include <doctest/doctest.h>

#include "engine/core/error.hpp"
#include "plugins/billing/proration.hpp"

using namespace artistsaid;
using namespace artistsaid::billing;

namespace {
Date d(const char* text) { return parse_date(text, "test date"); }
const Currency usd = Currency::from_code("USD");
const Currency jpy = Currency::from_code("JPY");
}  // namespace

TEST_CASE("Billing.Proration.ByDaysOfTheActualPeriod") {
    // 30.00 USD for February 2025 (28 days): 14 days = 15.00; March (31 days): 14 days = 13.55.
    auto feb = BillingPeriod::starting(d("2025-02-01"), BillingCycle::kMonthly, 1);
    auto mar = BillingPeriod::starting(d("2025-03-01"), BillingCycle::kMonthly, 1);
    CHECK(prorate(Money(3000, usd), feb, 14) == Money(1500, usd));
    CHECK(prorate(Money(3000, usd), mar, 14) == Money(1355, usd));  // 1354.84 -> 1355
    CHECK(prorate(Money(3000, usd), mar, 14, RoundingMode::kDown) == Money(1354, usd));
    CHECK(prorate(Money(3000, usd), mar, 0) == Money(0, usd));
    CHECK(prorate(Money(3000, usd), mar, 31) == Money(3000, usd));
    CHECK_THROWS_AS(prorate(Money(3000, usd), mar, 32), InputError);
}

TEST_CASE("Billing.Proration.UpgradeCreditsUnusedOldDaysAndChargesNewDays") {
    // Monthly 10.00 -> 25.00 on 2025-04-21: 10 of 30 days left.
    auto apr = BillingPeriod::starting(d("2025-04-01"), BillingCycle::kMonthly, 1);
    auto change = change_plan(Money(1000, usd), Money(2500, usd), apr, d("2025-04-21"));
    CHECK(change.remaining_days == 10);
    CHECK(change.period_days == 30);
    CHECK(change.credit == Money(-333, usd));
    CHECK(change.charge == Money(833, usd));
    CHECK(change.net() == Money(500, usd));
}

TEST_CASE("Billing.Proration.DowngradeNetsToACredit") {
    auto year = BillingPeriod::starting(d("2025-01-15"), BillingCycle::kAnnual, 15);
    auto change = change_plan(Money(120000, jpy), Money(60000, jpy), year, d("2025-07-15"));
    CHECK(change.period_days == 365);
    CHECK(change.remaining_days == 184);
    CHECK(change.credit == Money(-60493, jpy));  // 120000 * 184 / 365 = 60493.15
    CHECK(change.charge == Money(30247, jpy));   // 30246.58
    CHECK(change.net().is_negative());
}

TEST_CASE("Billing.Proration.ChangeOnTheFirstDayIsTheWholePeriod") {
    auto p = BillingPeriod::starting(d("2025-01-31"), BillingCycle::kMonthly, 31);
    auto change = change_plan(Money(999, usd), Money(1999, usd), p, p.start);
    CHECK(change.credit == Money(-999, usd));
    CHECK(change.charge == Money(1999, usd));
    CHECK_THROWS_AS(change_plan(Money(999, usd), Money(1999, usd), p, p.end), InputError);
    CHECK_THROWS_AS(change_plan(Money(999, usd), Money(1999, jpy), p, p.start), InputError);
}
