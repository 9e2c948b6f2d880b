#include <doctest/doctest.h>

#include "engine/core/error.hpp"
#include "plugins/billing/rounding_mode.hpp"

using namespace artistsaid;
using namespace artistsaid::billing;

TEST_CASE("Billing.Rounding.EachModeOnHalvesAndNonHalves") {
    struct Case {
        long long num, den;
        long long half_up, half_even, half_down, up, down;
    };
    const Case cases[] = {
        {25, 10, 3, 2, 2, 3, 2},     {35, 10, 4, 4, 3, 4, 3},    {-25, 10, -3, -2, -2, -3, -2},
        {26, 10, 3, 3, 3, 3, 2},     {24, 10, 2, 2, 2, 3, 2},    {-24, 10, -2, -2, -2, -3, -2},
        {20, 10, 2, 2, 2, 2, 2},     {1, 3, 0, 0, 0, 1, 0},      {2, 3, 1, 1, 1, 1, 0},
        {5, 10, 1, 0, 0, 1, 0},      {15, 10, 2, 2, 1, 2, 1},    {0, 7, 0, 0, 0, 0, 0},
        {25, -10, -3, -2, -2, -3, -2},
    };
    for (const auto& c : cases) {
        CAPTURE(c.num);
        CAPTURE(c.den);
        CHECK(divide_rounded(c.num, c.den, RoundingMode::kHalfUp) == c.half_up);
        CHECK(divide_rounded(c.num, c.den, RoundingMode::kHalfEven) == c.half_even);
        CHECK(divide_rounded(c.num, c.den, RoundingMode::kHalfDown) == c.half_down);
        CHECK(divide_rounded(c.num, c.den, RoundingMode::kUp) == c.up);
        CHECK(divide_rounded(c.num, c.den, RoundingMode::kDown) == c.down);
    }
}

TEST_CASE("Billing.Rounding.PpmOfAmounts") {
    CHECK(apply_ppm(1999, 190000, RoundingMode::kHalfUp) == 380);    // 379.81
    CHECK(apply_ppm(1000, 88750, RoundingMode::kHalfUp) == 89);      // 88.75
    CHECK(apply_ppm(1000, 88750, RoundingMode::kDown) == 88);
    CHECK(apply_ppm(50, 100000, RoundingMode::kHalfEven) == 5);
    CHECK(apply_ppm(45, 100000, RoundingMode::kHalfEven) == 4);      // 4.5 -> 4
    CHECK(apply_ppm(55, 100000, RoundingMode::kHalfEven) == 6);      // 5.5 -> 6
    // No overflow in the intermediate product.
    CHECK(apply_ppm(9'000'000'000'000'000'000LL, 500000, RoundingMode::kHalfUp) ==
          4'500'000'000'000'000'000LL);
}

TEST_CASE("Billing.Rounding.ErrorsAreClear") {
    CHECK_THROWS_AS(divide_rounded(1, 0, RoundingMode::kHalfUp), InputError);
    CHECK_THROWS_AS(apply_ppm(9'000'000'000'000'000'000LL, 2'000'000, RoundingMode::kHalfUp),
                    WorkError);
    CHECK(parse_rounding_mode("half_even") == RoundingMode::kHalfEven);
    CHECK_THROWS_WITH_AS(rounding_mode_or_throw("bankers"),
                         doctest::Contains("half_up, half_even"), InputError);
}
