#include "engine/core/currency.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <string>
#include <type_traits>

#include "engine/core/error.hpp"

namespace doctest {
template <>
struct StringMaker<artistsaid::Currency> {
    static String convert(const artistsaid::Currency& currency) {
        return String(std::string(currency.code()).c_str());
    }
};
}  // namespace doctest

namespace {

using artistsaid::Currency;
using artistsaid::ErrorCode;
using artistsaid::InputError;

// from_code(code) must throw an InputError whose message names the code (as `shown`, which
// differs only where the code holds unprintable bytes).
void check_refused(const std::string& code, const std::string& shown) {
    CAPTURE(code);
    bool thrown = false;
    try {
        Currency::from_code(code);
    } catch (const InputError& error) {
        thrown = true;
        CHECK(error.code() == ErrorCode::kInvalidInput);
        CHECK(std::string(error.what()).find("\"" + shown + "\"") != std::string::npos);
    }
    CHECK(thrown);
    CHECK_FALSE(Currency::find(code).has_value());
}

void check_refused(const std::string& code) { check_refused(code, code); }

}  // namespace

TEST_CASE("Currency.IsCheapToCopy") {
    static_assert(std::is_trivially_copyable_v<Currency>);
    static_assert(sizeof(Currency) <= sizeof(void*));
}

TEST_CASE("Currency.Exponent.MatchesIso4217") {
    const std::map<std::string, int> expected = {
        {"USD", 2}, {"EUR", 2}, {"GBP", 2}, {"CHF", 2}, {"JPY", 0}, {"KRW", 0}, {"CLP", 0},
        {"ISK", 0}, {"VND", 0}, {"UYI", 0}, {"XAF", 0}, {"XOF", 0}, {"XPF", 0}, {"BHD", 3},
        {"KWD", 3}, {"TND", 3}, {"OMR", 3}, {"JOD", 3}, {"IQD", 3}, {"LYD", 3}, {"CLF", 4},
        {"UYW", 4}, {"VES", 2}, {"VED", 2}, {"ZWG", 2}, {"SLE", 2}, {"XCG", 2}, {"BOV", 2},
        {"CHE", 2}, {"CHW", 2}, {"COU", 2}, {"MXV", 2}, {"USN", 2}, {"MGA", 2}, {"MRU", 2},
    };
    for (const auto& entry : expected) {
        const std::string& code = entry.first;
        CAPTURE(code);
        const Currency currency = Currency::from_code(code);
        CHECK(currency.code() == code);
        CHECK(currency.exponent() == entry.second);
    }
}

TEST_CASE("Currency.Table.HoldsEveryActiveCodeInOrder") {
    const std::vector<Currency> all = Currency::all();
    // ISO 4217 list one (2026) has 178 entries, 13 of which have no minor unit.
    CHECK(all.size() == 165);
    CHECK(std::is_sorted(all.begin(), all.end()));
    CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());
    for (const Currency currency : all) {
        CAPTURE(currency);
        CHECK(Currency::from_code(currency.code()) == currency);
        CHECK(currency.exponent() >= 0);
        CHECK(currency.exponent() <= 4);
    }
}

TEST_CASE("Currency.FromCode.RefusesUnknownCode") {
    check_refused("ABC");
    check_refused("XXX");  // "no currency": nothing can be billed in it
    check_refused("XAU");  // gold has no minor unit
    check_refused("HRK");  // withdrawn: Croatia uses EUR
    check_refused("ANG");  // withdrawn: replaced by XCG
    check_refused("ZWL");  // withdrawn: replaced by ZWG

    try {
        Currency::from_code("ABC");
        FAIL("ABC was accepted");
    } catch (const InputError& error) {
        CHECK(std::string(error.what()).find("unknown currency code") != std::string::npos);
    }
}

TEST_CASE("Currency.FromCode.RefusesMalformedCode") {
    check_refused("");
    check_refused("usd");  // case-sensitive: codes are upper case
    check_refused("Usd");
    check_refused("US");
    check_refused("USDX");
    check_refused(" USD");
    check_refused("U$D");
    check_refused(std::string("US\0", 3), "US?");

    try {
        Currency::from_code("usd");
        FAIL("usd was accepted");
    } catch (const InputError& error) {
        CHECK(std::string(error.what()).find("three upper-case letters") != std::string::npos);
    }
}

TEST_CASE("Currency.Find.ReturnsNulloptForUnknownAndTheCurrencyOtherwise") {
    CHECK_FALSE(Currency::find("ZZZ").has_value());
    CHECK_FALSE(Currency::find("eur").has_value());
    REQUIRE(Currency::find("EUR").has_value());
    CHECK(*Currency::find("EUR") == Currency::from_code("EUR"));
    // The first and last entries are found: the binary search covers both ends.
    CHECK(Currency::find("AED").has_value());
    CHECK(Currency::find("ZWG").has_value());
}

TEST_CASE("Currency.Equality.ComparesCodes") {
    const Currency usd = Currency::from_code("USD");
    const Currency copy = usd;
    CHECK(usd == copy);
    CHECK(usd != Currency::from_code("USN"));
    CHECK(Currency::from_code("EUR") < usd);

    std::map<Currency, int> by_currency;
    by_currency[usd] = 1;
    by_currency[Currency::from_code("JPY")] = 2;
    CHECK(by_currency.begin()->first == Currency::from_code("JPY"));
}
