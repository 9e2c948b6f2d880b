#include "gateways/bank/iban.hpp"

#include <doctest/doctest.h>

#include "engine/core/error.hpp"
#include "gateways/bank/bic.hpp"

using namespace artistsaid;
using namespace artistsaid::gateways;

TEST_CASE("Gateways.Bank.Iban.ValidNumbersOfSeveralCountries") {
    for (const char* text : {"DE89370400440532013000", "GB82WEST12345698765432",
                             "FR1420041010050500013M02606", "NL91ABNA0417164300",
                             "BE68539007547034", "CH9300762011623852957",
                             "KW81CBKU0000000000001234560101", "NO9386011117947"}) {
        CAPTURE(text);
        CHECK(Iban::find(text).has_value());
    }
    auto printed = Iban::parse("de89 3704 0044 0532 0130 00");
    CHECK(printed.electronic() == "DE89370400440532013000");
    CHECK(printed.country() == "DE");
}

TEST_CASE("Gateways.Bank.Iban.RefusesWithTheReason") {
    CHECK_THROWS_WITH_AS(Iban::parse("DE89370400440532013001"),
                         doctest::Contains("fails its check digits"), InputError);
    CHECK_THROWS_WITH_AS(Iban::parse("DE8937040044053201300"),
                         doctest::Contains("has 21 characters; DE IBANs have 22"), InputError);
    CHECK_THROWS_WITH_AS(Iban::parse("ZZ89370400440532013000"),
                         doctest::Contains("unknown country code ZZ"), InputError);
    CHECK_THROWS_WITH_AS(Iban::parse("DE89-3704"), doctest::Contains("character"), InputError);
    CHECK_THROWS_AS(Iban::parse(""), InputError);
    CHECK_THROWS_AS(Iban::parse("8937040044053201300022"), InputError);
    // One digit changed anywhere is caught (mod 97 catches every single substitution).
    std::string good = "GB82WEST12345698765432";
    for (std::size_t i = 4; i < good.size(); ++i) {
        std::string bad = good;
        if (bad[i] >= '0' && bad[i] <= '9') {
            bad[i] = bad[i] == '9' ? '0' : static_cast<char>(bad[i] + 1);
            CAPTURE(bad);
            CHECK_FALSE(Iban::find(bad).has_value());
        }
    }
}

TEST_CASE("Gateways.Bank.Bic.EightOrElevenCharacters") {
    CHECK(Bic::find("DEUTDEFF").has_value());
    CHECK(Bic::find("DEUTDEFF500").has_value());
    CHECK(Bic::parse("NWBKGB2L").country() == "GB");
    CHECK_FALSE(Bic::find("DEUTDEF").has_value());
    CHECK_FALSE(Bic::find("deutdeff").has_value());
    CHECK_FALSE(Bic::find("DEUT1EFF").has_value());
    CHECK_FALSE(Bic::find("DEUTDE0F").has_value());   // location starting with 0
    CHECK_FALSE(Bic::find("DEUTDEFO").has_value());   // location ending in O
    CHECK_FALSE(Bic::find("DEUTDEFF50").has_value());
    CHECK_THROWS_WITH_AS(Bic::parse("DEUTDEFF5000"), doctest::Contains("8 or 11"), InputError);
}
