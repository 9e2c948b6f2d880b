#include <doctest/doctest.h>

#include <random>

#include "engine/core/error.hpp"
#include "plugins/billing/commission_split.hpp"

using namespace artistsaid;
using namespace artistsaid::billing;

namespace {
const Currency usd = Currency::from_code("USD");
const Currency jpy = Currency::from_code("JPY");
}  // namespace

TEST_CASE("Billing.Commission.LargestRemainderKeepsEveryCent") {
    CommissionSplit split(150000, 50000);  // 15% platform, 5% affiliate, 80% provider
    auto s = split.split(Money(1001, usd), true);
    // exact: 150.15 / 50.05 / 800.8 -> floors 150/50/800, the left-over cent to the largest
    // remainder (provider .8)
    CHECK(s.platform == Money(150, usd));
    CHECK(s.affiliate == Money(50, usd));
    CHECK(s.provider == Money(801, usd));
}

TEST_CASE("Billing.Commission.WithoutAffiliateThePlatformKeepsItsShare") {
    CommissionSplit split(150000, 50000);
    auto s = split.split(Money(10000, jpy), false);
    CHECK(s.platform == Money(2000, jpy));
    CHECK(s.affiliate == Money(0, jpy));
    CHECK(s.provider == Money(8000, jpy));
}

TEST_CASE("Billing.Commission.RandomSplitsAlwaysSumToTheGross") {
    std::mt19937_64 rng(7);
    for (int i = 0; i < 5000; ++i) {
        const std::int64_t platform = static_cast<std::int64_t>(rng() % 500001);
        const std::int64_t affiliate = static_cast<std::int64_t>(rng() % 500001);
        const std::int64_t gross = static_cast<std::int64_t>(rng() % 10'000'000);
        CommissionSplit split(platform, affiliate);
        auto s = split.split(Money(gross, usd), i % 2 == 0);
        CHECK(s.platform + s.affiliate + s.provider == Money(gross, usd));
        CHECK_FALSE(s.platform.is_negative());
        CHECK_FALSE(s.provider.is_negative());
    }
}

TEST_CASE("Billing.Commission.BadRatesAreRefused") {
    CHECK_THROWS_AS(CommissionSplit(600000, 500000), InputError);
    CHECK_THROWS_AS(CommissionSplit(-1, 0), InputError);
    CommissionSplit split(100000, 0);
    CHECK_THROWS_AS(split.split(Money(-5, usd), false), InputError);
    CHECK(split.split(Money(0, usd), false).provider == Money(0, usd));
}
