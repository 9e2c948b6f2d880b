#include <doctest/doctest.h>

#include "engine/core/error.hpp"
#include "plugins/billing/tax_calculator.hpp"

using namespace artistsaid;
using namespace artistsaid::billing;

namespace {
Date d(const char* text) { return parse_date(text, "test date"); }
const Currency eur = Currency::from_code("EUR");
const Currency usd = Currency::from_code("USD");
const Currency jpy = Currency::from_code("JPY");

std::vector<TaxRate> sample_rates() {
    std::vector<TaxRate> r;
    r.push_back({1, "DE", std::nullopt, "USt", 190000, false, false, 1, d("2000-01-01"), {}});
    r.push_back({2, "US", std::string("NY"), "NY sales tax", 88750, false, false, 1,
                 d("2000-01-01"), {}});
    r.push_back({3, "CA", std::nullopt, "GST", 50000, false, false, 1, d("2000-01-01"), {}});
    r.push_back({4, "CA", std::string("QC"), "QST", 99750, false, false, 2, d("2000-01-01"), {}});
    r.push_back({5, "JP", std::nullopt, "Consumption tax", 100000, true, false, 1,
                 d("2019-10-01"), {}});
    r.push_back({6, "JP", std::nullopt, "Consumption tax (old)", 80000, true, false, 1,
                 d("2014-04-01"), d("2019-10-01")});
    r.push_back({7, "XX", std::nullopt, "Base", 100000, false, false, 1, d("2000-01-01"), {}});
    r.push_back({8, "XX", std::nullopt, "Compound", 50000, false, true, 2, d("2000-01-01"), {}});
    r.push_back({9, "US", std::nullopt, "Federal none", 0, false, false, 1, d("2000-01-01"), {}});
    return r;
}
}  // namespace

TEST_CASE("Billing.Tax.RegionBeatsCountryAndDatesSelectTheRate") {
    TaxCalculator calc(sample_rates());
    auto ny = calc.applicable("US", std::string("NY"), d("2025-01-01"));
    REQUIRE(ny.size() == 1);
    CHECK(ny[0].id == 2);
    auto tx = calc.applicable("US", std::string("TX"), d("2025-01-01"));
    REQUIRE(tx.size() == 1);
    CHECK(tx[0].id == 9);
    auto qc = calc.applicable("CA", std::string("QC"), d("2025-01-01"));
    REQUIRE(qc.size() == 2);
    CHECK(qc[0].id == 3);
    CHECK(qc[1].id == 4);
    CHECK(calc.applicable("CA", std::nullopt, d("2025-01-01")).size() == 1);
    CHECK(calc.applicable("JP", std::nullopt, d("2019-09-30"))[0].id == 6);
    CHECK(calc.applicable("JP", std::nullopt, d("2019-10-01"))[0].id == 5);
    CHECK(calc.applicable("FR", std::nullopt, d("2025-01-01")).empty());
    CHECK(calc.applicable("DE", std::nullopt, d("2025-01-01"), /*exempt=*/true).empty());
}

TEST_CASE("Billing.Tax.ExclusivePriceAddsRoundedTax") {
    TaxCalculator calc(sample_rates());
    auto de = calc.applicable("DE", std::nullopt, d("2025-01-01"));
    auto t = calc.line_tax(Money(1999, eur), de);  // 19.99 * 19% = 3.7981
    CHECK(t.net == Money(1999, eur));
    CHECK(t.total_tax() == Money(380, eur));
    CHECK(t.gross == Money(2379, eur));
    auto ny = calc.applicable("US", std::string("NY"), d("2025-01-01"));
    CHECK(calc.line_tax(Money(1000, usd), ny).total_tax() == Money(89, usd));  // 88.75
    TaxCalculator down(sample_rates(), RoundingMode::kDown);
    CHECK(down.line_tax(Money(1000, usd), ny).total_tax() == Money(88, usd));
}

TEST_CASE("Billing.Tax.InclusivePriceExtractsTaxAndKeepsTheGross") {
    TaxCalculator calc(sample_rates());
    auto jp = calc.applicable("JP", std::nullopt, d("2025-01-01"));
    auto t = calc.line_tax(Money(1100, jpy), jp);
    CHECK(t.gross == Money(1100, jpy));
    CHECK(t.taxes[0].amount == Money(100, jpy));
    CHECK(t.net == Money(1000, jpy));
    auto odd = calc.line_tax(Money(999, jpy), jp);  // 999 / 11 = 90.8 -> 91
    CHECK(odd.taxes[0].amount == Money(91, jpy));
    CHECK(odd.net + odd.total_tax() == odd.gross);
}

TEST_CASE("Billing.Tax.TwoLevelsAndCompound") {
    TaxCalculator calc(sample_rates());
    auto qc = calc.applicable("CA", std::string("QC"), d("2025-01-01"));
    auto t = calc.line_tax(Money(10000, usd), qc);  // GST 500, QST 997.5 -> 998
    REQUIRE(t.taxes.size() == 2);
    CHECK(t.taxes[0].amount == Money(500, usd));
    CHECK(t.taxes[1].amount == Money(998, usd));
    CHECK(t.gross == Money(11498, usd));
    auto xx = calc.applicable("XX", std::nullopt, d("2025-01-01"));
    auto c = calc.line_tax(Money(1000, usd), xx);  // 100, then 5% of 1100 = 55
    CHECK(c.taxes[0].amount == Money(100, usd));
    CHECK(c.taxes[1].amount == Money(55, usd));
}

TEST_CASE("Billing.Tax.InclusiveLinesAlwaysSumToTheirGross") {
    std::vector<TaxRate> rates = sample_rates();
    for (auto& r : rates) r.inclusive = true;
    TaxCalculator calc(rates);
    auto qc = calc.applicable("CA", std::string("QC"), d("2025-01-01"));
    auto xx = calc.applicable("XX", std::nullopt, d("2025-01-01"));
    for (std::int64_t a = 0; a < 3000; a += 7) {
        for (const auto* set : {&qc, &xx}) {
            auto t = calc.line_tax(Money(a, usd), *set);
            CHECK(t.net + t.total_tax() == Money(a, usd));
            CHECK_FALSE(t.net.is_negative());
        }
    }
}

TEST_CASE("Billing.Tax.ExemptAndNoRatesLeaveTheAmount") {
    TaxCalculator calc(sample_rates());
    auto none = calc.applicable("DE", std::nullopt, d("2025-01-01"), true);
    auto t = calc.line_tax(Money(1999, eur), none);
    CHECK(t.net == Money(1999, eur));
    CHECK(t.gross == Money(1999, eur));
    CHECK(t.taxes.empty());
    std::vector<TaxRate> bad = {{1, "DE", std::nullopt, "bad", 190000, false, false, 3,
                                 d("2000-01-01"), {}}};
    CHECK_THROWS_AS(TaxCalculator{bad}, InputError);
}
