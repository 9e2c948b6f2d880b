// The sample camt.053 statement (tests/fixtures/bank) matched against invoices and bank
// payouts in a real PostgreSQL.
#include "gateways/bank/statement_matcher.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "gateways/bank/pain001_writer.hpp"
#include "tests/integration/gateways/gateway_fixture.hpp"

using namespace artistsaid;
using namespace artistsaid::gateways;

namespace {

std::string sample_statement() {
    std::ifstream in(test::source_dir() + "/tests/fixtures/bank/camt053_sample.xml");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

struct MatcherFixture {
    MatcherFixture() {
        db.unpaid_invoice(11900, "EUR", "INV-2026-0001");
        auto second = db.unpaid_invoice(8000, "EUR", "INV-2026-0002");
        (void)second;
        client = db.count("SELECT min(id) FROM clients");
        payout("payout:artist-7", 12000);
        payout("payout:artist-9", 18000);
        payout("payout:artist-11", 4000);
    }

    void payout(const std::string& key, long long amount) {
        db.exec("INSERT INTO payouts (payee_kind, payee_client_id, amount, currency, method, "
                "status, idempotency_key) VALUES ('provider', " + std::to_string(client) + ", " +
                std::to_string(amount) + ", 'EUR', 'bank', 'processing', '" + key + "')");
    }

    test::GatewayDatabase db;
    long long client = 0;
};

const StatementMismatch* mismatch_for(const StatementMatchReport& report, const std::string& ref) {
    for (const auto& m : report.unmatched) {
        if (m.transaction.entry_reference == ref) return &m;
    }
    return nullptr;
}

}  // namespace

TEST_CASE("Gateways.Bank.StatementMatcher.SampleStatementMatchesAsExpected") {
    MatcherFixture f;
    // The fixture's EndToEndIds are what our pain.001 wrote for these payouts.
    REQUIRE(Pain001Writer::end_to_end_id("payout:artist-7") == "E2EB0BC458343FDCF0D3322DF05E36C45C1");

    StatementMatcher matcher(f.db.url());
    auto report = matcher.match(CamtStatementReader::read(sample_statement()));
    CHECK(report.not_booked == 1);
    REQUIRE(report.matched.size() == 3);
    CHECK(report.matched[0].kind == "invoice");
    CHECK(report.matched[0].reference == "INV-2026-0001");
    CHECK(report.matched[1].kind == "payout");
    CHECK(report.matched[1].reference == "payout:artist-7");
    CHECK(report.matched[2].reference == "payout:artist-9");
    for (const auto& m : report.matched) CHECK_FALSE(m.already_settled);

    REQUIRE(report.unmatched.size() == 4);
    auto partial = mismatch_for(report, "BANKREF-0002");
    REQUIRE(partial != nullptr);
    CHECK(partial->reason == "invoice INV-2026-0002 has 80.00 EUR open, the bank booked 50.00 EUR");
    auto donation = mismatch_for(report, "BANKREF-0003");
    REQUIRE(donation != nullptr);
    CHECK(donation->reason == "no invoice number in the remittance information");
    auto wrong_amount = mismatch_for(report, "BANKREF-0005");
    REQUIRE(wrong_amount != nullptr);
    CHECK(wrong_amount->reason.find("is 40.00 EUR, the bank booked 45.00 EUR") != std::string::npos);
    auto lookalike = mismatch_for(report, "BANKREF-0007");
    REQUIRE(lookalike != nullptr);
    CHECK(lookalike->reason == "no invoice number in the remittance information");

    // match() changed nothing; recording the payouts does, once.
    CHECK(f.db.count("SELECT count(*) FROM payouts WHERE status = 'paid'") == 0);
    CHECK(matcher.mark_payouts_paid(report) == 2);
    CHECK(f.db.count("SELECT count(*) FROM payouts WHERE status = 'paid' AND paid_at IS NOT NULL") == 2);
    auto again = matcher.match(CamtStatementReader::read(sample_statement()));
    REQUIRE(again.matched.size() == 3);
    CHECK(again.matched[1].already_settled);
    CHECK(matcher.mark_payouts_paid(again) == 0);
}
