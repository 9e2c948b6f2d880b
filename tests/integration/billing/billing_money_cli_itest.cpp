// `artistsaid billing refund|credit-note|change-plan` as an operator runs them: exact decimal
// amounts in the invoice's currency exponent (JPY has none), --json output, bad input exits 2
// and writes nothing, and `ledger verify` passes afterwards.
#include <doctest/doctest.h>

#include "tests/integration/billing/money_fixture.hpp"
#include "tests/support/cli_runner.hpp"

using namespace artistsaid;
using artistsaid::test::MoneyDatabase;

namespace {

struct Cli {
    MoneyDatabase db;
    test::CliOptions opts;
    Cli() {
        opts.env = {{"ARTISTSAID_DATABASE_URL", db.db.url()}, {"ARTISTSAID_GATEWAYS_FILE", ""}};
    }
    test::CliResult run(std::vector<std::string> args) {
        args.insert(args.begin(), "--json");
        return test::run_cli(args, opts);
    }
    long long written() {
        return db.scalar(
            "SELECT (SELECT count(*) FROM refunds) + (SELECT count(*) FROM "
            "credit_notes) + (SELECT count(*) FROM subscription_adjustments) + "
            "(SELECT count(*) FROM billing_runs WHERE kind = 'change_plan')");
    }
};

}  // namespace

TEST_CASE("Billing.Cli.RefundAndCreditNoteReadExactDecimals") {
    Cli c;
    const std::string eur = std::to_string(c.db.paid_invoice("EUR", 5000, 0));
    const std::string jpy = std::to_string(c.db.paid_invoice("JPY", 1200, 0, "5555555555554444"));

    auto refund = c.run(
        {"billing", "refund", "--invoice", eur, "--amount", "12.50", "--reason", "customer asked"});
    INFO(refund.out, refund.err);
    REQUIRE(refund.exit_code == 0);
    auto out = nlohmann::json::parse(refund.out);
    CHECK(out["status"] == "succeeded");
    CHECK(out["amount"] == 1250);
    CHECK(out["credit_note_number"] == "CN-00000001");

    auto yen = c.run({"billing", "refund", "--invoice", jpy, "--amount", "500"});
    REQUIRE(yen.exit_code == 0);
    CHECK(nlohmann::json::parse(yen.out)["amount"] == 500);

    auto note = c.run({"billing", "credit-note", "--invoice", eur, "--amount", "2.25", "--reason",
                       "goodwill", "--to-credit"});
    INFO(note.err);
    REQUIRE(note.exit_code == 0);
    auto cn = nlohmann::json::parse(note.out);
    CHECK(cn["number"] == "CN-00000003");
    CHECK(cn["total"] == 225);
    CHECK(c.run({"ledger", "verify"}).exit_code == 0);
}

TEST_CASE("Billing.Cli.BadInputExitsTwoAndWritesNothing") {
    Cli c;
    const std::string eur = std::to_string(c.db.paid_invoice("EUR", 5000, 0));
    const std::string jpy = std::to_string(c.db.paid_invoice("JPY", 1200, 0, "5555555555554444"));
    const long long before = c.written();
    const std::vector<std::vector<std::string>> bad = {
        {"billing", "refund", "--invoice", eur, "--amount", "12.345"},  // 3 decimals for EUR
        {"billing", "refund", "--invoice", eur, "--amount", "abc"},
        {"billing", "refund", "--invoice", eur, "--amount", "-5"},
        {"billing", "refund", "--invoice", eur, "--amount", "0"},
        {"billing", "refund", "--invoice", eur, "--amount", "50.01"},  // more than paid
        {"billing", "refund", "--invoice", eur, "--amount", "99999999999999999999"},
        {"billing", "refund", "--invoice", jpy, "--amount", "12.5"},  // JPY has no decimals
        {"billing", "refund", "--invoice", "0"},
        {"billing", "refund", "--invoice", "99999"},
        {"billing", "refund"},
        {"billing", "credit-note", "--invoice", eur, "--amount", "1.00"},  // no reason
        {"billing", "credit-note", "--invoice", eur, "--reason", "x"},     // no amount
        {"billing", "credit-note", "--invoice", eur, "--amount", "1,00", "--reason", "x"},
        {"billing", "credit-note", "--invoice", eur, "--amount", "1.00", "--reason", "x"},  // paid
        {"billing", "change-plan", "--subscription", "1", "--service", "svc1", "--on",
         "2026-13-01"},
        {"billing", "change-plan", "--subscription", "1", "--on", "2026-03-10"},
        {"billing", "change-plan", "--subscription", "1", "--price", "1.234", "--on", "2026-03-10"},
        {"billing", "change-plan", "--subscription", "1", "--service", "nope", "--on",
         "2026-03-10"},
        {"billing", "change-plan", "--subscription", "1", "--price", "40.00", "--on", "2026-02-10"},
    };
    for (const auto& args : bad) {
        auto r = c.run(args);
        std::string joined;
        for (const auto& a : args) joined += a + " ";
        INFO(joined, r.err);
        CHECK(r.exit_code == 2);
        CHECK(!r.err.empty());
    }
    CHECK(c.written() == before);
    CHECK(c.db.scalar("SELECT count(*) FROM sandbox_operations WHERE kind = 'refund'") == 0);
}

TEST_CASE("Billing.Cli.ChangePlanTwiceIsOneChange") {
    Cli c;
    c.db.paid_invoice("EUR", 3000, 0);  // subscription 1, March 2026 billed (31 days)
    // 40.00 from March 11: 21 of 31 days. Credit round(3000*21/31) = 2032 (2032.26),
    // charge round(4000*21/31) = 2710 (2709.68): net 6.78.
    auto first = c.run({"billing", "change-plan", "--subscription", "1", "--price", "40.00", "--on",
                        "2026-03-11"});
    INFO(first.out, first.err);
    REQUIRE(first.exit_code == 0);
    auto out = nlohmann::json::parse(first.out);
    CHECK(out["credit"] == -2032);
    CHECK(out["charge"] == 2710);
    CHECK(out["net"] == 678);
    auto second = c.run({"billing", "change-plan", "--subscription", "1", "--price", "40.00",
                         "--on", "2026-03-11"});
    REQUIRE(second.exit_code == 0);
    CHECK(nlohmann::json::parse(second.out)["replayed"] == true);
    CHECK(c.db.scalar("SELECT count(*) FROM subscription_adjustments") == 2);
    CHECK(c.db.scalar("SELECT price_override FROM subscriptions WHERE id = 1") == 4000);
}
