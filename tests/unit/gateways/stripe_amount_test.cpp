#include "gateways/stripe/stripe_amount.hpp"

#include <doctest/doctest.h>

#include "engine/core/error.hpp"

using namespace artistsaid;
using namespace artistsaid::gateways;

namespace {
Money m(std::int64_t minor, const char* code) { return Money(minor, Currency::from_code(code)); }
}  // namespace

TEST_CASE("Gateways.Stripe.Amount.CurrencyRules") {
    CHECK(StripeAmount::to_stripe(m(1999, "USD")) == 1999);
    CHECK(StripeAmount::to_stripe(m(1200, "JPY")) == 1200);   // zero-decimal: yen
    CHECK(StripeAmount::to_stripe(m(1250, "KWD")) == 1250);   // 1.250 KWD
    CHECK(StripeAmount::to_stripe(m(100, "ISK")) == 10000);   // ISK: two decimals at Stripe
    CHECK(StripeAmount::to_stripe(m(500, "MGA")) == 5);       // MGA: zero-decimal at Stripe
    CHECK(StripeAmount::code(Currency::from_code("JPY")) == "jpy");
    CHECK(StripeAmount::exponent(Currency::from_code("BHD")) == 3);
    CHECK(StripeAmount::exponent(Currency::from_code("EUR")) == 2);
}

TEST_CASE("Gateways.Stripe.Amount.UnrepresentableAmountsAreRefused") {
    CHECK_THROWS_WITH_AS(StripeAmount::to_stripe(m(1255, "KWD")),
                         doctest::Contains("multiples of 0.010"), InputError);
    CHECK_THROWS_AS(StripeAmount::to_stripe(m(1, "TND")), InputError);
    CHECK_THROWS_WITH_AS(StripeAmount::to_stripe(m(550, "MGA")), doctest::Contains("whole units"),
                         InputError);
}

TEST_CASE("Gateways.Stripe.Amount.RoundTrips") {
    for (const auto& money : {m(1999, "USD"), m(1200, "JPY"), m(1250, "KWD"), m(100, "ISK"),
                              m(500, "MGA")}) {
        CAPTURE(money.to_string());
        CHECK(StripeAmount::from_stripe(StripeAmount::to_stripe(money), money.currency()) == money);
    }
    CHECK_THROWS_AS(StripeAmount::from_stripe(10050, Currency::from_code("ISK")), InputError);
}
