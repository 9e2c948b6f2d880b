// Voiding credit notes issued in error against a real PostgreSQL: a note to client credit whose
// credit is unused (taken back), a note on an open invoice's balance (restored), refused for a
// refund's note, used credit and an invoice no longer open; append-only (status void, the
// number kept, numbering gap-free), twice is a no-op, `ledger verify` accounts for voids.
#include <doctest/doctest.h>

#include "plugins/billing/credit_note_issuer.hpp"
#include "plugins/billing/credit_note_voider.hpp"
#include "tests/integration/billing/credit_fixture.hpp"
#include "tests/support/cli_runner.hpp"

using namespace artistsaid;
using artistsaid::test::CreditDatabase;

namespace {

billing::IssuedCreditNote note(CreditDatabase& db, long long invoice, long long amount,
                               billing::CreditNoteTarget target, const std::string& key) {
    billing::CreditNoteRequest q;
    q.invoice_id = invoice;
    q.amount = amount;
    q.reason = "issued in error";
    q.target = target;
    q.idempotency_key = key;
    return billing::CreditNoteIssuer::issue_now(db.conn, q);
}

nlohmann::json void_note(CreditDatabase& db, const std::string& number) {
    return billing::CreditNoteVoider::void_now(db.conn, number, "wrong client");
}

}  // namespace

TEST_CASE("Billing.CreditNoteVoids.ToCreditTakesTheUnusedCreditBack") {
    CreditDatabase db;
    const long long invoice = db.paid_invoice("EUR", 10000, 190000);  // 119.00
    const long long client =
        db.scalar("SELECT client_id FROM invoices WHERE id = " + std::to_string(invoice));
    const long long revenue = db.balance("revenue", "EUR");
    const long long tax = db.balance("tax_payable", "EUR");
    auto issued = note(db, invoice, 2380, billing::CreditNoteTarget::kClientCredit, "n1");
    REQUIRE(issued.number == "CN-00000001");
    REQUIRE(db.credit_balance(client, "EUR") == 2380);

    auto out = void_note(db, "CN-00000001");
    INFO(out.dump());
    CHECK(out["status"] == "void");
    CHECK(out["already_void"] == false);
    CHECK(out["void_reason"] == "wrong client");
    CHECK(out["voided_at"] != "");
    CHECK(out["credit_balance"] == 0);
    CHECK(db.credit_balance(client, "EUR") == 0);
    // The books are back where they were before the note: revenue and tax restored.
    CHECK(db.balance("revenue", "EUR") == revenue);
    CHECK(db.balance("tax_payable", "EUR") == tax);
    CHECK(db.balance("client_credit", "EUR") == 0);
    // Append-only: the note row and its issuing transaction stay, a reversal is added.
    CHECK(db.scalar("SELECT count(*) FROM ledger_transactions WHERE kind = "
                    "'credit_note.issued'") == 1);
    CHECK(db.scalar("SELECT count(*) FROM ledger_transactions WHERE kind = "
                    "'credit_note.voided'") == 1);
    CHECK(db.text("SELECT status FROM credit_notes WHERE number = 'CN-00000001'") == "void");
    CHECK(db.ledger_ok());

    // Twice: nothing changes, and it says so.
    auto twice = void_note(db, "CN-00000001");
    CHECK(twice["already_void"] == true);
    CHECK(test::contains(twice["message"].get<std::string>(), "already void"));
    CHECK(db.scalar("SELECT count(*) FROM ledger_transactions WHERE kind = "
                    "'credit_note.voided'") == 1);
    CHECK(db.scalar("SELECT count(*) FROM credits WHERE kind = 'credit_note'") == 2);

    // Numbers stay gap-free: the void kept CN-00000001, the next note is CN-00000002, and
    // the voided amount is creditable again.
    auto next = note(db, invoice, 11900, billing::CreditNoteTarget::kClientCredit, "n2");
    CHECK(next.number == "CN-00000002");
    CHECK(db.ledger_ok());

    // Tampering with a void's reversal is seen by ledger verify.
    db.exec(
        "INSERT INTO credits (client_id, currency, amount, kind, credit_note_id, "
        "idempotency_key) SELECT client_id, currency, -1, 'credit_note', id, 'tamper' "
        "FROM credit_notes WHERE number = 'CN-00000001'");
    CHECK_FALSE(billing::LedgerVerifier().verify(db.conn)["ok"].get<bool>());
}

TEST_CASE("Billing.CreditNoteVoids.OnAnOpenInvoiceRestoresItsBalance") {
    CreditDatabase db;
    const long long client = db.card_client("EUR", "4000000000000002");
    const long long invoice = db.unpaid_invoice(client, "EUR", 10000, "2026-03-01");  // 119.00
    auto issued = note(db, invoice, 5000, billing::CreditNoteTarget::kInvoice, "n1");
    REQUIRE(db.due(invoice) == 6900);
    const long long receivable = db.balance("receivable", "EUR");

    auto out = void_note(db, issued.number);
    INFO(out.dump());
    CHECK(out["status"] == "void");
    CHECK(out["invoice_status"] == "unpaid");
    CHECK(db.due(invoice) == 11900);
    CHECK(db.scalar("SELECT credit_applied FROM invoices WHERE id = " + std::to_string(invoice)) ==
          0);
    CHECK(db.balance("receivable", "EUR") == receivable + 5000);
    // The note's item stays; a reversing item is added (the items still add up).
    CHECK(db.scalar("SELECT count(*) FROM invoice_items WHERE kind = 'credit_applied' AND "
                    "invoice_id = " +
                    std::to_string(invoice)) == 2);
    CHECK(db.ledger_ok());

    // A note that covered the whole balance made the invoice paid: no longer open.
    auto whole = note(db, invoice, 11900, billing::CreditNoteTarget::kInvoice, "n2");
    REQUIRE(whole.invoice_status == "paid");
    CHECK(test::contains(test::input_error_of([&] { void_note(db, whole.number); }),
                         "which is now paid"));
    CHECK(db.text("SELECT status FROM credit_notes WHERE number = '" + whole.number + "'") ==
          "applied");
    CHECK(db.ledger_ok());
}

TEST_CASE("Billing.CreditNoteVoids.MoneyThatMovedCannotBeVoided") {
    CreditDatabase db;
    const long long client = db.card_client("EUR");  // taxed 19%
    const long long invoice = db.unpaid_invoice(client, "EUR", 10000, "2026-03-01");
    db.overpay(invoice, 0);
    auto refund = db.refund(invoice, 2000, "refund-1");
    REQUIRE(refund["status"] == "succeeded");
    const std::string refund_note = refund["credit_note_number"];
    auto refused = test::input_error_of([&] { void_note(db, refund_note); });
    CHECK(test::contains(refused, "refund " + refund["refund_id"].dump()));
    CHECK(test::contains(refused, "cannot be voided"));

    // Client credit that was used by the next invoice cannot be taken back.
    auto credit = note(db, invoice, 3000, billing::CreditNoteTarget::kClientCredit, "n-credit");
    const long long s = db.service("next-svc");
    db.subscription(client, s, "EUR", "one_off", 1, "2026-04-01", 2000);
    db.generate("2026-04-01", "gen-next");
    REQUIRE(db.credit_balance(client, "EUR") == 620);  // 23.80 of the 30.00 used
    CHECK(test::contains(test::input_error_of([&] { void_note(db, credit.number); }),
                         "only 6.20 EUR of that credit is left"));
    CHECK(test::contains(test::input_error_of([&] { void_note(db, "CN-99999999"); }),
                         "no credit note CN-99999999"));
    CHECK(db.scalar("SELECT count(*) FROM credit_notes WHERE status = 'void'") == 0);
    CHECK(db.scalar("SELECT count(*) FROM ledger_transactions WHERE kind = "
                    "'credit_note.voided'") == 0);
    CHECK(db.ledger_ok());
}

TEST_CASE("Billing.Cli.RefundCreditAndVoidCreditNote") {
    CreditDatabase db;
    test::CliOptions opts;
    opts.env = {{"ARTISTSAID_DATABASE_URL", db.db.url()}, {"ARTISTSAID_GATEWAYS_FILE", ""}};
    auto cli = [&](std::vector<std::string> args) {
        args.insert(args.begin(), "--json");
        return test::run_cli(args, opts);
    };
    const long long client = db.card_client("EUR");
    const long long invoice = db.unpaid_invoice(client, "EUR", 10000, "2026-03-01");
    db.overpay(invoice, 1250);
    const std::string c = std::to_string(client);

    auto refund = cli({"billing", "refund-credit", "--client", c, "--amount", "7.50", "--currency",
                       "EUR", "--reason", "asked", "--key", "cli-credit-1"});
    INFO(refund.out, refund.err);
    REQUIRE(refund.exit_code == 0);
    auto out = nlohmann::json::parse(refund.out);
    CHECK(out["status"] == "succeeded");
    CHECK(out["amount"] == 750);
    CHECK(out["credit_balance"] == 500);
    CHECK(out["idempotency_key"] == "cli-credit-1");
    // Bad input: exit 2, nothing written.
    const long long refunds = db.scalar("SELECT count(*) FROM refunds");
    CHECK(cli({"billing", "refund-credit", "--client", c, "--amount", "5.01", "--currency", "EUR"})
              .exit_code == 2);
    CHECK(cli({"billing", "refund-credit", "--client", c, "--amount", "1.00", "--currency", "USD"})
              .exit_code == 2);
    CHECK(cli({"billing", "refund-credit", "--client", "424242", "--amount", "1.00", "--currency",
               "EUR"})
              .exit_code == 2);
    CHECK(cli({"billing", "refund-credit", "--client", c, "--amount", "1.001", "--currency", "EUR"})
              .exit_code == 2);
    CHECK(cli({"billing", "refund-credit", "--client", c, "--amount", "1.00"}).exit_code == 2);
    CHECK(db.scalar("SELECT count(*) FROM refunds") == refunds);

    auto issued = cli({"billing", "credit-note", "--invoice", std::to_string(invoice), "--amount",
                       "3.00", "--reason", "wrong", "--to-credit"});
    REQUIRE(issued.exit_code == 0);
    const std::string number = nlohmann::json::parse(issued.out)["number"];
    auto voided = cli({"billing", "void-credit-note", "--number", number, "--reason", "typo"});
    INFO(voided.out, voided.err);
    REQUIRE(voided.exit_code == 0);
    CHECK(nlohmann::json::parse(voided.out)["status"] == "void");
    auto twice = test::run_cli({"billing", "void-credit-note", "--number", number}, opts);
    CHECK(twice.exit_code == 0);
    CHECK(test::contains(twice.out, "already void"));
    CHECK(cli({"billing", "void-credit-note", "--number", "CN-00000999"}).exit_code == 2);
    CHECK(cli({"billing", "void-credit-note"}).exit_code == 2);

    auto verify = test::run_cli({"ledger", "verify"}, opts);
    CHECK(verify.exit_code == 0);
}
