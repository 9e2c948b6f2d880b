#include <doctest/doctest.h>

#include "engine/core/error.hpp"
#include "plugins/billing/late_fee_policy.hpp"

using namespace artistsaid;
using namespace artistsaid::billing;
using nlohmann::json;

namespace {
const Currency usd = Currency::from_code("USD");
const Currency jpy = Currency::from_code("JPY");
const Currency eur = Currency::from_code("EUR");
}  // namespace

TEST_CASE("Billing.LateFee.FixedPerCurrency") {
    auto p = LateFeePolicy::from_json(
        {{"kind", "fixed"}, {"after_days", 7}, {"amounts", {{"USD", "5.00"}, {"JPY", "500"}}}});
    CHECK(p.after_days() == 7);
    CHECK(p.fee_for(Money(12345, usd)) == Money(500, usd));
    CHECK(p.fee_for(Money(12345, jpy)) == Money(500, jpy));
    CHECK(p.fee_for(Money(12345, eur)) == Money(0, eur));  // no amount for EUR
    CHECK(p.fee_for(Money(0, usd)) == Money(0, usd));      // nothing due, no fee
}

TEST_CASE("Billing.LateFee.PercentWithMinimumAndMaximum") {
    auto p = LateFeePolicy::from_json({{"kind", "percent"},
                                       {"percent", "1.5"},
                                       {"minimum", {{"USD", "2.00"}}},
                                       {"maximum", {{"USD", "50.00"}}}});
    CHECK(p.percent_ppm() == 15000);
    CHECK(p.fee_for(Money(10000, usd)) == Money(200, usd));      // 1.50 < minimum 2.00
    CHECK(p.fee_for(Money(100000, usd)) == Money(1500, usd));    // 15.00
    CHECK(p.fee_for(Money(100033, usd)) == Money(1500, usd));    // 15.00495 -> 15.00
    CHECK(p.fee_for(Money(100034, usd)) == Money(1501, usd));    // 15.0051 -> 15.01
    CHECK(p.fee_for(Money(10'000'000, usd)) == Money(5000, usd));  // capped
    CHECK(p.fee_for(Money(999, eur)) == Money(15, eur));         // 14.985 -> 15, no minimum
}

TEST_CASE("Billing.LateFee.BadPoliciesAreRefusedWithTheField") {
    CHECK_THROWS_WITH_AS(LateFeePolicy::from_json({{"kind", "daily"}}),
                         doctest::Contains("late_fee.kind"), InputError);
    CHECK_THROWS_WITH_AS(LateFeePolicy::from_json({{"kind", "percent"}, {"percent", 1.5}}),
                         doctest::Contains("late_fee.percent"), InputError);
    CHECK_THROWS_WITH_AS(LateFeePolicy::from_json({{"kind", "fixed"}, {"amounts", {{"USD", 5}}}}),
                         doctest::Contains("not a number"), InputError);
    CHECK_THROWS_AS(LateFeePolicy::from_json({{"kind", "fixed"}, {"amounts", {{"USD", "5.001"}}}}),
                    InputError);
    CHECK_THROWS_AS(LateFeePolicy::from_json({{"kind", "fixed"}, {"amounts", {{"usd", "5"}}}}),
                    InputError);
    CHECK_THROWS_WITH_AS(LateFeePolicy::from_json({{"kind", "fixed"}, {"amount", {{"USD", "5"}}}}),
                         doctest::Contains("unknown field 'amount'"), InputError);
    CHECK_THROWS_AS(LateFeePolicy::from_json({{"kind", "percent"}, {"percent", "101"}}),
                    InputError);
    CHECK_THROWS_AS(LateFeePolicy::from_json({{"kind", "percent"}, {"percent", "1.23456"}}),
                    InputError);
    CHECK_THROWS_AS(LateFeePolicy::from_json(
                        {{"kind", "fixed"}, {"after_days", -1}, {"amounts", {{"USD", "5"}}}}),
                    InputError);
    CHECK(parse_percent_ppm("0.0001", "x") == 1);
    CHECK(parse_percent_ppm("100", "x") == 1'000'000);
    CHECK_THROWS_AS(parse_percent_ppm(".5", "x"), InputError);
    CHECK_THROWS_AS(parse_percent_ppm("5.", "x"), InputError);
}
