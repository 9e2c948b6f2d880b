#include "engine/core/money.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/error.hpp"

namespace doctest {
template <>
struct StringMaker<artistsaid::Money> {
    static String convert(const artistsaid::Money& money) {
        return String(money.to_string().c_str());
    }
};
}  // namespace doctest

namespace {

using artistsaid::Currency;
using artistsaid::ErrorCode;
using artistsaid::InputError;
using artistsaid::Money;
using artistsaid::WorkError;

__extension__ typedef __int128 Int128;
__extension__ typedef unsigned __int128 UInt128;

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();

Currency usd() { return Currency::from_code("USD"); }
Currency eur() { return Currency::from_code("EUR"); }
Currency jpy() { return Currency::from_code("JPY"); }
Currency bhd() { return Currency::from_code("BHD"); }
Currency clf() { return Currency::from_code("CLF"); }

std::vector<std::int64_t> minor_units_of(const std::vector<Money>& parts) {
    std::vector<std::int64_t> units;
    for (const Money& part : parts) {
        units.push_back(part.minor_units());
    }
    return units;
}

// Runs `action`, which must throw exactly `Expected` with `code`; every needle must appear in
// the message.
template <typename Expected>
void check_error(const std::function<void()>& action, ErrorCode code,
                 std::initializer_list<std::string_view> needles = {}) {
    bool thrown = false;
    try {
        action();
    } catch (const Expected& error) {
        thrown = true;
        const std::string message = error.what();
        CAPTURE(message);
        CHECK(error.code() == code);
        for (std::string_view needle : needles) {
            CAPTURE(needle);
            CHECK(message.find(needle) != std::string::npos);
        }
    } catch (const std::exception& error) {
        FAIL("unexpected exception: " << error.what());
    }
    CHECK_MESSAGE(thrown, "no exception was thrown");
}

void check_parse_refused(std::string_view text, Currency currency) {
    CAPTURE(text);
    check_error<InputError>([&] { Money::parse(text, currency); }, ErrorCode::kInvalidInput);
}

void check_parse_overflows(std::string_view text, Currency currency) {
    CAPTURE(text);
    check_error<WorkError>([&] { Money::parse(text, currency); }, ErrorCode::kOverflow,
                           {"out of range"});
}

// Checks one allocation against the definition of the largest-remainder method, computed
// independently of Money. Returns a description of the first violation, or "" if none.
std::string allocation_problem(std::int64_t amount, const std::vector<std::int64_t>& weights,
                               const std::vector<Money>& parts) {
    if (parts.size() != weights.size()) {
        return "expected " + std::to_string(weights.size()) + " parts";
    }
    UInt128 total_weight = 0;
    for (std::int64_t weight : weights) {
        total_weight += static_cast<std::uint64_t>(weight);
    }
    const UInt128 magnitude =
        amount < 0 ? UInt128{0} - static_cast<UInt128>(static_cast<Int128>(amount))
                   : static_cast<UInt128>(amount);

    Int128 sum = 0;
    std::vector<UInt128> remainders(weights.size());
    std::vector<bool> rounded_up(weights.size());
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const std::string where = "part " + std::to_string(i) + ": ";
        const std::int64_t part = parts[i].minor_units();
        if (parts[i].currency() != usd()) {
            return where + "wrong currency";
        }
        if ((amount >= 0 && part < 0) || (amount < 0 && part > 0)) {
            return where + "sign differs from the whole";
        }
        const UInt128 part_magnitude =
            part < 0 ? UInt128{0} - static_cast<UInt128>(static_cast<Int128>(part))
                     : static_cast<UInt128>(part);
        // The exact share is magnitude * w / W = floor + remainder / W.
        const UInt128 product = magnitude * static_cast<std::uint64_t>(weights[i]);
        const UInt128 floor = product / total_weight;
        remainders[i] = product % total_weight;
        if (part_magnitude == floor) {
            rounded_up[i] = false;
        } else if (part_magnitude == floor + 1 && remainders[i] != 0) {
            rounded_up[i] = true;
        } else {
            return where + "not within one minor unit of its exact share";
        }
        if (weights[i] == 0 && part != 0) {
            return where + "zero weight got a non-zero part";
        }
        sum += part;
    }
    if (sum != amount) {
        return "the parts do not sum to the whole";
    }
    // Largest remainders first, earlier index first among equals.
    for (std::size_t up = 0; up < parts.size(); ++up) {
        for (std::size_t down = 0; down < parts.size(); ++down) {
            if (!rounded_up[up] || rounded_up[down]) {
                continue;
            }
            if (remainders[up] < remainders[down] ||
                (remainders[up] == remainders[down] && up > down)) {
                return "part " + std::to_string(up) + " was rounded up before part " +
                       std::to_string(down);
            }
        }
    }
    return "";
}

// Amounts spread over small, mid-sized and huge magnitudes, including the int64 limits.
// Values come straight from the engine's bits (not std::uniform_int_distribution, whose
// output differs between standard libraries), so every platform runs the same cases.
std::int64_t random_amount(std::mt19937_64& rng) {
    switch (rng() % 6) {
        case 0: return static_cast<std::int64_t>(rng() % 2001) - 1000;
        case 1: return static_cast<std::int32_t>(static_cast<std::uint32_t>(rng()));
        case 2: return static_cast<std::int64_t>(rng());
        case 3: return kMax - static_cast<std::int64_t>(rng() % 1000);
        case 4: return kMin + static_cast<std::int64_t>(rng() % 1000);
        default: {
            constexpr std::int64_t kEdges[] = {0, 1, -1, kMax, kMin};
            return kEdges[rng() % 5];
        }
    }
}

std::int64_t random_weight(std::mt19937_64& rng) {
    switch (rng() % 5) {
        case 0: return 0;
        case 1: return 1 + static_cast<std::int64_t>(rng() % 10);
        case 2: return static_cast<std::int64_t>(rng() % 1'000'000);
        case 3: return static_cast<std::int64_t>(rng() >> 1);
        default: return kMax - static_cast<std::int64_t>(rng() % 10);
    }
}

}  // namespace

TEST_CASE("Money.Construct.KeepsMinorUnitsAndCurrency") {
    const Money money(1234, usd());
    CHECK(money.minor_units() == 1234);
    CHECK(money.currency() == usd());
    CHECK(Money::zero(jpy()).minor_units() == 0);
    CHECK(Money::zero(jpy()).currency() == jpy());
    CHECK(Money::zero(jpy()).is_zero());
    CHECK(Money(-1, usd()).is_negative());
}

TEST_CASE("Money.Parse.ReadsDecimalText") {
    CHECK(Money::parse("12.34", usd()) == Money(1234, usd()));
    CHECK(Money::parse("-0.5", usd()) == Money(-50, usd()));
    CHECK(Money::parse("1000", usd()) == Money(100000, usd()));
    CHECK(Money::parse("0.001", bhd()) == Money(1, bhd()));
    CHECK(Money::parse("1.5", bhd()) == Money(1500, bhd()));
    CHECK(Money::parse("1000", jpy()) == Money(1000, jpy()));
    CHECK(Money::parse("-7", jpy()) == Money(-7, jpy()));
    CHECK(Money::parse("1.2345", clf()) == Money(12345, clf()));
    CHECK(Money::parse("+7.10", usd()) == Money(710, usd()));
    CHECK(Money::parse("007.5", usd()) == Money(750, usd()));
    CHECK(Money::parse("-0", usd()) == Money(0, usd()));
    CHECK(Money::parse("-0.00", usd()) == Money(0, usd()));
}

TEST_CASE("Money.Parse.RefusesTooManyDecimals") {
    check_error<InputError>([] { Money::parse("12.345", usd()); }, ErrorCode::kInvalidInput,
                            {"\"12.345\"", "USD", "refusing to round"});
    check_parse_refused("12.340", usd());  // even a trailing zero: the currency looks wrong
    check_parse_refused("1.0", jpy());
    check_parse_refused("0.0001", bhd());
    check_parse_refused("-1.23456", clf());
}

TEST_CASE("Money.Parse.RefusesMalformedText") {
    using namespace std::string_view_literals;
    for (std::string_view text :
         {""sv, "-"sv, "+"sv, "."sv, "1."sv, ".5"sv, "-.5"sv, "1,000.00"sv, "1,5"sv, "1 000"sv,
          " 1"sv, "1 "sv, "1e3"sv, "1E3"sv, "--1"sv, "+-1"sv, "-+1"sv, "++1"sv, "1-"sv,
          "1.2.3"sv, "0x10"sv, "1_000"sv, "NaN"sv, "inf"sv, "12.34 USD"sv, "\xd9\xa1"sv,
          "1\t"sv, "1\0"sv}) {
        check_parse_refused(text, usd());
    }
    check_parse_refused("1.", jpy());
}

TEST_CASE("Money.Parse.RefusesAmountsOutsideInt64") {
    CHECK(Money::parse("92233720368547758.07", usd()) == Money(kMax, usd()));
    CHECK(Money::parse("-92233720368547758.08", usd()) == Money(kMin, usd()));
    CHECK(Money::parse("-9223372036854775808", jpy()) == Money(kMin, jpy()));
    CHECK(Money::parse("-922337203685477.5808", clf()) == Money(kMin, clf()));

    check_parse_overflows("92233720368547758.08", usd());
    check_parse_overflows("-92233720368547758.09", usd());
    check_parse_overflows("9223372036854775808", jpy());
    check_parse_overflows("922337203685477.5808", clf());
    check_parse_overflows("18446744073709551616", jpy());  // 2^64: wraps a uint64 to zero
    check_parse_overflows("100000000000000000000000000000000000000", usd());
    check_parse_overflows("-99999999999999999999999999.99", usd());
}

TEST_CASE("Money.Parse.ReadsCodeBeforeOrAfterTheAmount") {
    CHECK(Money::parse("12.34 USD") == Money(1234, usd()));
    CHECK(Money::parse("USD 12.34") == Money(1234, usd()));
    CHECK(Money::parse("-0.5 EUR") == Money(-50, eur()));
    CHECK(Money::parse("BHD 0.001") == Money(1, bhd()));
    CHECK(Money::parse("JPY -1000") == Money(-1000, jpy()));

    for (std::string_view text : {"12.34", "USD", "", " ", "12.34  USD", "USD  12.34",
                                  "USD12.34", " 12.34 USD", "12.34 USD ", "12.34 USD EUR"}) {
        CAPTURE(text);
        check_error<InputError>([&] { Money::parse(text); }, ErrorCode::kInvalidInput);
    }
    check_error<InputError>([] { Money::parse("12.34 usd"); }, ErrorCode::kInvalidInput,
                            {"\"usd\""});
    check_error<InputError>([] { Money::parse("12.34 ABC"); }, ErrorCode::kInvalidInput,
                            {"\"ABC\""});
    check_error<InputError>([] { Money::parse("USD 12.345"); }, ErrorCode::kInvalidInput,
                            {"refusing to round"});
    check_error<WorkError>([] { Money::parse("USD 92233720368547758.08"); },
                           ErrorCode::kOverflow);
}

TEST_CASE("Money.Format.WritesExactlyExponentDecimals") {
    CHECK(Money(1234, usd()).format_amount() == "12.34");
    CHECK(Money(1234, usd()).to_string() == "12.34 USD");
    CHECK(Money(-5, usd()).format_amount() == "-0.05");
    CHECK(Money(-100, usd()).format_amount() == "-1.00");
    CHECK(Money(0, usd()).format_amount() == "0.00");
    CHECK(Money(7, usd()).format_amount() == "0.07");
    CHECK(Money(1000, jpy()).format_amount() == "1000");
    CHECK(Money(1000, jpy()).to_string() == "1000 JPY");
    CHECK(Money(-1, bhd()).format_amount() == "-0.001");
    CHECK(Money(12345, clf()).format_amount() == "1.2345");
    CHECK(Money(kMin, usd()).format_amount() == "-92233720368547758.08");
    CHECK(Money(kMax, usd()).format_amount() == "92233720368547758.07");
    CHECK(Money(kMin, jpy()).format_amount() == "-9223372036854775808");
    CHECK(Money(kMax, clf()).format_amount() == "922337203685477.5807");
}

TEST_CASE("Money.Format.RoundTripsThroughParse") {
    std::vector<std::int64_t> values = {0,    1,    -1,   9,        10,       99,
                                        100,  -100, 12345, kMax,    kMin,     kMax - 1,
                                        kMin + 1, 1'000'000, -999'999, 10'000'000'000};
    std::mt19937_64 rng(20240601);
    for (int i = 0; i < 200; ++i) {
        values.push_back(static_cast<std::int64_t>(rng()));
        values.push_back(static_cast<std::int64_t>(rng() % 100'000) - 50'000);
    }
    for (const Currency currency : Currency::all()) {
        for (std::int64_t value : values) {
            const Money money(value, currency);
            CAPTURE(money);
            REQUIRE(Money::parse(money.format_amount(), currency) == money);
            REQUIRE(Money::parse(money.to_string()) == money);
            REQUIRE(Money::parse(std::string(currency.code()) + " " + money.format_amount()) ==
                    money);
        }
    }
}

TEST_CASE("Money.Arithmetic.IsExact") {
    const Money a(1050, usd());
    const Money b(-275, usd());
    CHECK(a + b == Money(775, usd()));
    CHECK(a - b == Money(1325, usd()));
    CHECK(a * 3 == Money(3150, usd()));
    CHECK(-2 * a == Money(-2100, usd()));
    CHECK(-a == Money(-1050, usd()));
    CHECK(-Money(kMax, usd()) == Money(kMin + 1, usd()));
    CHECK(Money::parse("0.10", usd()) + Money::parse("0.20", usd()) == Money::parse("0.30", usd()));

    Money total = Money::zero(usd());
    total += a;
    total -= b;
    total *= 2;
    CHECK(total == Money(2650, usd()));
    CHECK(Money(kMax, usd()) + Money(kMin, usd()) == Money(-1, usd()));
}

TEST_CASE("Money.Arithmetic.RefusesOverflow") {
    check_error<WorkError>([] { (void)(Money(kMax, usd()) + Money(1, usd())); },
                           ErrorCode::kOverflow, {"92233720368547758.07 USD", "0.01 USD"});
    check_error<WorkError>([] { (void)(Money(kMin, usd()) - Money(1, usd())); },
                           ErrorCode::kOverflow);
    check_error<WorkError>([] { (void)(Money(kMin, usd()) + Money(-1, usd())); },
                           ErrorCode::kOverflow);
    check_error<WorkError>([] { (void)(Money(kMax, usd()) - Money(-1, usd())); },
                           ErrorCode::kOverflow);
    check_error<WorkError>([] { (void)(Money(kMin, usd()) * -1); }, ErrorCode::kOverflow);
    check_error<WorkError>([] { (void)(Money(kMax, usd()) * 2); }, ErrorCode::kOverflow);
    check_error<WorkError>([] { (void)(Money(4'611'686'018'427'387'904, usd()) * 2); },
                           ErrorCode::kOverflow);
    check_error<WorkError>([] { (void)(-Money(kMin, usd())); }, ErrorCode::kOverflow);

    // A refused operation leaves the operand as it was.
    Money balance(kMax, usd());
    CHECK_THROWS_AS(balance += Money(1, usd()), WorkError);
    CHECK_THROWS_AS(balance *= 3, WorkError);
    CHECK(balance == Money(kMax, usd()));
}

TEST_CASE("Money.Arithmetic.RefusesMixedCurrencies") {
    const Money dollars(100, usd());
    const Money euros(100, eur());
    const auto mismatch = ErrorCode::kCurrencyMismatch;
    check_error<InputError>([&] { (void)(dollars + euros); }, mismatch, {"USD", "EUR"});
    check_error<InputError>([&] { (void)(dollars - euros); }, mismatch, {"USD", "EUR"});
    check_error<InputError>([&] { (void)(dollars < euros); }, mismatch, {"USD", "EUR"});
    check_error<InputError>([&] { (void)(dollars <= euros); }, mismatch, {"USD", "EUR"});
    check_error<InputError>([&] { (void)(dollars > euros); }, mismatch, {"USD", "EUR"});
    check_error<InputError>([&] { (void)(dollars >= euros); }, mismatch, {"USD", "EUR"});
    Money total = dollars;
    CHECK_THROWS_AS(total += euros, InputError);
    CHECK(total == dollars);

    // Equality is defined across currencies: the same number of a different currency differs.
    CHECK_FALSE(dollars == euros);
    CHECK(dollars != euros);
}

TEST_CASE("Money.Compare.OrdersAmountsOfOneCurrency") {
    CHECK(Money(-1, usd()) < Money(0, usd()));
    CHECK(Money(5, usd()) <= Money(5, usd()));
    CHECK(Money(kMax, usd()) > Money(kMin, usd()));
    CHECK(Money(5, usd()) >= Money(4, usd()));
    CHECK(Money(5, usd()) == Money(5, usd()));
    CHECK(Money(5, usd()) != Money(6, usd()));
}

TEST_CASE("Money.Split.HundredIntoThreeIs34_33_33") {
    CHECK(minor_units_of(Money(100, usd()).split(3)) == std::vector<std::int64_t>{34, 33, 33});
    CHECK(minor_units_of(Money(-100, usd()).split(3)) ==
          std::vector<std::int64_t>{-34, -33, -33});
    CHECK(minor_units_of(Money(2, usd()).split(3)) == std::vector<std::int64_t>{1, 1, 0});
    CHECK(minor_units_of(Money(0, usd()).split(2)) == std::vector<std::int64_t>{0, 0});
    CHECK(minor_units_of(Money(7, usd()).split(1)) == std::vector<std::int64_t>{7});
    const std::vector<Money> parts = Money(100, jpy()).split(3);
    CHECK(parts[0].currency() == jpy());

    check_error<InputError>([] { Money(100, usd()).split(0); }, ErrorCode::kInvalidInput);
    check_error<InputError>([] { Money(100, usd()).split(-3); }, ErrorCode::kInvalidInput);
}

TEST_CASE("Money.Allocate.FollowsLargestRemainder") {
    const Money hundred(100, usd());
    CHECK(minor_units_of(hundred.allocate({70, 20, 10})) == std::vector<std::int64_t>{70, 20, 10});
    // 100 * 1/6 = 16.67, 100 * 2/6 = 33.33, 100 * 3/6 = 50: the 0.67 remainder wins.
    CHECK(minor_units_of(hundred.allocate({1, 2, 3})) == std::vector<std::int64_t>{17, 33, 50});
    CHECK(minor_units_of(Money(1, usd()).allocate({1, 1})) == std::vector<std::int64_t>{1, 0});
    CHECK(minor_units_of(Money(-1, usd()).allocate({1, 1})) == std::vector<std::int64_t>{-1, 0});
    CHECK(minor_units_of(hundred.allocate({0, 1, 1})) == std::vector<std::int64_t>{0, 50, 50});
    CHECK(minor_units_of(Money(5, usd()).allocate({0, 1, 0, 1, 1})) ==
          std::vector<std::int64_t>{0, 2, 0, 2, 1});

    const std::vector<std::int64_t> weights = {3, 1};
    CHECK(minor_units_of(hundred.allocate(weights)) == std::vector<std::int64_t>{75, 25});

    // Amount times weight exceeds 64 bits by far; the parts are still exact.
    CHECK(minor_units_of(Money(kMax, usd()).allocate({kMax, kMax})) ==
          std::vector<std::int64_t>{kMax / 2 + 1, kMax / 2});
    CHECK(minor_units_of(Money(kMin, usd()).allocate({kMax, kMax, kMax})) ==
          std::vector<std::int64_t>{kMin / 3 - 1, kMin / 3 - 1, kMin / 3});
}

TEST_CASE("Money.Allocate.RefusesBadWeights") {
    const Money hundred(100, usd());
    check_error<InputError>([&] { hundred.allocate(std::vector<std::int64_t>{}); },
                            ErrorCode::kInvalidInput, {"no weights"});
    check_error<InputError>([&] { hundred.allocate({1, -1, 1}); }, ErrorCode::kInvalidInput,
                            {"negative"});
    check_error<InputError>([&] { hundred.allocate({0, 0}); }, ErrorCode::kInvalidInput,
                            {"zero"});
}

TEST_CASE("Money.Allocate.SumIsPreserved") {
    // 10,000 random splits: the parts sum to the whole, each is within one minor unit of its
    // exact share, the leftover goes by largest remainder, a negative amount is split as the
    // mirror of its magnitude, and the same input always gives the same parts.
    std::mt19937_64 rng(0x5eed'a110'ca7e'0001);
    int all_zero_cases = 0;
    for (int round = 0; round < 10'000; ++round) {
        const std::int64_t amount = random_amount(rng);
        std::vector<std::int64_t> weights(1 + rng() % 20);
        bool any_positive = false;
        for (std::int64_t& weight : weights) {
            weight = random_weight(rng);
            any_positive = any_positive || weight > 0;
        }
        const Money whole(amount, usd());
        CAPTURE(round);
        CAPTURE(whole);
        if (!any_positive) {
            ++all_zero_cases;
            REQUIRE_THROWS_AS(whole.allocate(weights), InputError);
            continue;
        }

        const std::vector<Money> parts = whole.allocate(weights);
        const std::string problem = allocation_problem(amount, weights, parts);
        REQUIRE_MESSAGE(problem.empty(), problem);
        REQUIRE(whole.allocate(weights) == parts);
        if (amount != kMin) {
            std::vector<Money> mirrored = (-whole).allocate(weights);
            for (Money& part : mirrored) {
                part = -part;
            }
            REQUIRE(mirrored == parts);
        }
    }
    CHECK(all_zero_cases < 1000);
}
