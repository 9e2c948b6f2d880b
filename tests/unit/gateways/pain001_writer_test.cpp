#include "gateways/bank/pain001_writer.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "engine/core/digest.hpp"
#include "engine/core/error.hpp"
#include "tests/support/test_env.hpp"

using namespace artistsaid;
using namespace artistsaid::gateways;

namespace {

CreditTransferBatch sample_batch(const char* currency, std::vector<std::int64_t> amounts,
                                 const char* creditor_iban = "DE89370400440532013000") {
    CreditTransferBatch batch;
    batch.idempotency_key = "payout-batch:2026-11";
    batch.created_at = std::chrono::system_clock::from_time_t(1795000000);
    batch.execution_date = "2026-11-30";
    batch.initiating_party = "ArtistsAid GmbH";
    batch.debtor_name = "ArtistsAid GmbH";
    batch.debtor_iban = "DE02120300000000202051";
    batch.debtor_bic = "BYLADEM1001";
    int n = 0;
    for (auto amount : amounts) {
        ++n;
        CreditTransfer t;
        t.idempotency_key = "payout:" + std::to_string(n);
        t.amount = Money(amount, Currency::from_code(currency));
        t.creditor_name = "Artist " + std::to_string(n);
        t.creditor_iban = creditor_iban;
        t.remittance = "Commission November 2026";
        batch.transfers.push_back(t);
    }
    return batch;
}

// Runs tests/unit/gateways/pain001_check.py on `xml`; returns its exit status.
int independent_check(const std::string& xml, int count, const std::string& sum, int exponent,
                      const std::string& keys) {
    auto dir = std::filesystem::temp_directory_path() / test::unique_name("pain001");
    std::filesystem::create_directories(dir);
    auto file = dir / "batch.xml";
    std::ofstream(file) << xml;
    std::string source = test::source_dir();
    std::string command = "/usr/bin/python3 " + source + "/tests/unit/gateways/pain001_check.py " +
                          file.string() + " --xsd " + source +
                          "/tests/fixtures/bank/pain.001.001.03-subset.xsd --count " +
                          std::to_string(count) + " --sum " + sum + " --exponent " +
                          std::to_string(exponent) + (keys.empty() ? "" : " --keys " + keys);
    int status = std::system(command.c_str());
    std::filesystem::remove_all(dir);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("Gateways.Bank.Pain001.EndToEndIdIsDerivedFromTheKey") {
    auto id = Pain001Writer::end_to_end_id("run-1:payout:7");
    CHECK(id.size() == 35);
    CHECK(id.rfind("E2E", 0) == 0);
    CHECK(id == Pain001Writer::end_to_end_id("run-1:payout:7"));
    CHECK(id != Pain001Writer::end_to_end_id("run-1:payout:8"));
    std::string hex = sha256_hex("run-1:payout:7").substr(0, 32);
    for (auto& c : hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    CHECK(id == "E2E" + hex);
}

TEST_CASE("Gateways.Bank.Pain001.ValidAgainstTheSchemaWithExactControlSums") {
    SUBCASE("EUR, SEPA") {
        auto xml = Pain001Writer().write(sample_batch("EUR", {1050, 99, 250000}));
        CHECK(xml.find("<Cd>SEPA</Cd>") != std::string::npos);
        CHECK(xml.find("<ChrgBr>SLEV</ChrgBr>") != std::string::npos);
        CHECK(xml.find("<InstdAmt Ccy=\"EUR\">0.99</InstdAmt>") != std::string::npos);
        CHECK(independent_check(xml, 3, "2511.49", 2, "payout:1,payout:2,payout:3") == 0);
    }
    SUBCASE("JPY has no decimals") {
        auto xml = Pain001Writer().write(sample_batch("JPY", {1200, 5}));
        CHECK(xml.find("<InstdAmt Ccy=\"JPY\">1200</InstdAmt>") != std::string::npos);
        CHECK(xml.find("SEPA") == std::string::npos);
        CHECK(independent_check(xml, 2, "1205", 0, "") == 0);
    }
    SUBCASE("KWD has three") {
        auto xml = Pain001Writer().write(
            sample_batch("KWD", {1250, 7}, "KW81CBKU0000000000001234560101"));
        CHECK(xml.find("<InstdAmt Ccy=\"KWD\">1.250</InstdAmt>") != std::string::npos);
        CHECK(independent_check(xml, 2, "1.257", 3, "") == 0);
    }
    SUBCASE("the checker itself catches a wrong control sum") {
        auto xml = Pain001Writer().write(sample_batch("EUR", {100, 200}));
        auto at = xml.find("<CtrlSum>3.00</CtrlSum>");
        REQUIRE(at != std::string::npos);
        xml.replace(at, 23, "<CtrlSum>3.01</CtrlSum>");
        CHECK(independent_check(xml, 2, "3.00", 2, "") == 1);
    }
}

TEST_CASE("Gateways.Bank.Pain001.TextIsEscapedAndClipped") {
    auto batch = sample_batch("EUR", {100});
    batch.transfers[0].creditor_name = "Ren\xC3\xA9" "e & <Sons> \"Foto\" 'Studio'";
    batch.transfers[0].remittance = std::string(150, 'x');
    auto xml = Pain001Writer().write(batch);
    CHECK(xml.find("<Nm>Ren\xC3\xA9" "e &amp; &lt;Sons&gt; &quot;Foto&quot; &apos;Studio&apos;</Nm>") !=
          std::string::npos);
    CHECK(xml.find("<Ustrd>" + std::string(140, 'x') + "</Ustrd>") != std::string::npos);
    CHECK(independent_check(xml, 1, "1.00", 2, "") == 0);
    // 70 characters of a two-byte letter are 140 bytes, cut at a character boundary.
    std::string long_name;
    for (int i = 0; i < 80; ++i) long_name += "\xC3\xA9";
    batch.transfers[0].creditor_name = long_name;
    xml = Pain001Writer().write(batch);
    std::string clipped;
    for (int i = 0; i < 70; ++i) clipped += "\xC3\xA9";
    CHECK(xml.find("<Nm>" + clipped + "</Nm>") != std::string::npos);
}

TEST_CASE("Gateways.Bank.Pain001.BadBatchesAreRefusedWholesale") {
    auto batch = sample_batch("EUR", {100, 200});
    SUBCASE("a bad IBAN names the transfer") {
        batch.transfers[1].creditor_iban = "DE89370400440532013001";
        CHECK_THROWS_WITH_AS(Pain001Writer().write(batch),
                             doctest::Contains("transfer 2: invalid IBAN"), InputError);
    }
    SUBCASE("a bad BIC") {
        batch.transfers[0].creditor_bic = "NOTABIC";
        CHECK_THROWS_WITH_AS(Pain001Writer().write(batch),
                             doctest::Contains("transfer 1: invalid BIC"), InputError);
    }
    SUBCASE("mixed currencies") {
        batch.transfers[1].amount = Money(200, Currency::from_code("USD"));
        CHECK_THROWS_WITH_AS(Pain001Writer().write(batch), doctest::Contains("differs"),
                             InputError);
    }
    SUBCASE("zero amount") {
        batch.transfers[0].amount = Money(0, Currency::from_code("EUR"));
        CHECK_THROWS_AS(Pain001Writer().write(batch), InputError);
    }
    SUBCASE("a repeated key") {
        batch.transfers[1].idempotency_key = batch.transfers[0].idempotency_key;
        CHECK_THROWS_WITH_AS(Pain001Writer().write(batch), doctest::Contains("appears twice"),
                             InputError);
    }
    SUBCASE("bad date, no transfers, bad debtor, control characters, broken UTF-8") {
        auto b = batch;
        b.execution_date = "30.11.2026";
        CHECK_THROWS_AS(Pain001Writer().write(b), InputError);
        b = batch;
        b.transfers.clear();
        CHECK_THROWS_AS(Pain001Writer().write(b), InputError);
        b = batch;
        b.debtor_iban = "DE00";
        CHECK_THROWS_AS(Pain001Writer().write(b), InputError);
        b = batch;
        b.transfers[0].creditor_name = "\xC3";
        CHECK_THROWS_WITH_AS(Pain001Writer().write(b), doctest::Contains("UTF-8"), InputError);
    }
}
