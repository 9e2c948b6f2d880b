// payments.refund and credit notes against a real PostgreSQL and the sandbox gateway: partial
// and full refunds (credit note numbers gap-free, tax split exactly, invoice refunded, ledger
// verified), over-refunds refused, two concurrent refunds of one payment, a refund whose
// answer is lost resolved by `artistsaid payments reconcile`, and credit notes without money.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "engine/core/error.hpp"
#include "plugins/billing/billing_steps.hpp"
#include "plugins/billing/credit_note_issuer.hpp"
#include "plugins/payments/payments_steps.hpp"
#include "tests/integration/billing/money_fixture.hpp"
#include "tests/support/cli_runner.hpp"

using namespace artistsaid;
using artistsaid::test::MoneyDatabase;

TEST_CASE("Billing.Refunds.PartialThenFullRefundCreditNotesAreGapFreeAndExact") {
    MoneyDatabase db;
    // 100.00 EUR + 19% = 119.00, charged through the sandbox.
    const long long invoice = db.paid_invoice("EUR", 10000, 190000);
    REQUIRE(db.scalar("SELECT total FROM invoices WHERE id = " + std::to_string(invoice)) == 11900);

    auto first = db.refund(invoice, 3000, "refund-1");
    CHECK(first["status"] == "succeeded");
    CHECK(first["amount"] == 3000);
    CHECK(first["credit_note_number"] == "CN-00000001");
    CHECK(first["invoice_status"] == "paid");
    CHECK(first["refunded"] == true);
    // Tax on the running total: round(1900 * 3000 / 11900) = round(478.99) = 479.
    CHECK(db.scalar("SELECT tax FROM credit_notes WHERE number = 'CN-00000001'") == 479);
    CHECK(db.scalar("SELECT subtotal FROM credit_notes WHERE number = 'CN-00000001'") == 2521);

    auto rest = db.refund(invoice, std::nullopt, "refund-2");  // all that is left
    CHECK(rest["status"] == "succeeded");
    CHECK(rest["amount"] == 8900);
    CHECK(rest["credit_note_number"] == "CN-00000002");
    CHECK(rest["invoice_status"] == "refunded");
    // Together the notes carry the invoice's subtotal and tax exactly.
    CHECK(db.scalar("SELECT sum(subtotal) FROM credit_notes") == 10000);
    CHECK(db.scalar("SELECT sum(tax) FROM credit_notes") == 1900);
    CHECK(db.text("SELECT string_agg(status, ',' ORDER BY id) FROM credit_notes") ==
          "refunded,refunded");
    CHECK(db.scalar("SELECT next_value FROM document_counters WHERE name = 'credit_note'") == 3);

    // The books: the sale and the money are both reversed; every account nets to zero.
    CHECK(db.balance("revenue", "EUR") == 0);
    CHECK(db.balance("tax_payable", "EUR") == 0);
    CHECK(db.balance("gateway_clearing", "EUR") == 0);
    CHECK(db.balance("receivable", "EUR") == 0);
    CHECK(db.scalar("SELECT count(*) FROM ledger_transactions WHERE kind = 'refund.succeeded'") ==
          2);
    CHECK(db.ledger_ok());

    // A replay of a key reports the first outcome and calls no gateway.
    auto again = db.refund(invoice, 3000, "refund-1");
    CHECK(again["replayed"] == true);
    CHECK(again["refund_id"] == first["refund_id"]);
    CHECK(db.scalar("SELECT count(*) FROM sandbox_operations WHERE kind = 'refund'") == 2);
    CHECK(db.scalar("SELECT count(*) FROM credit_notes") == 2);
}

TEST_CASE("Billing.Refunds.MoreThanPaidIsRefusedAndWritesNothing") {
    MoneyDatabase db;
    const long long invoice = db.paid_invoice("EUR", 5000, 0);
    CHECK_THROWS_AS(db.refund(invoice, 5001, "too-much"), InputError);
    CHECK(db.scalar("SELECT count(*) FROM refunds") == 0);
    CHECK(db.scalar("SELECT count(*) FROM sandbox_operations WHERE kind = 'refund'") == 0);
    CHECK_THROWS_AS(db.refund(invoice, 0, "zero"), InputError);

    REQUIRE(db.refund(invoice, 5000, "all")["status"] == "succeeded");
    CHECK(test::contains(test::input_error_of([&] { db.refund(invoice, 1, "one-more"); }),
                         "nothing left"));
    CHECK(db.scalar("SELECT count(*) FROM refunds") == 1);
    CHECK(db.text("SELECT status FROM invoices WHERE id = " + std::to_string(invoice)) ==
          "refunded");
    CHECK(db.ledger_ok());
}

TEST_CASE("Billing.Refunds.ConcurrentRefundsOfOnePaymentNeverExceedIt") {
    MoneyDatabase db;
    const long long invoice = db.paid_invoice("EUR", 10000, 0);
    // Two refunds of 60.00 of a 100.00 payment at once: the payment row lock lets one in.
    std::atomic<int> ready{0};
    std::atomic<int> refused{0};
    std::atomic<int> succeeded{0};
    auto attempt = [&](const std::string& key) {
        ++ready;
        while (ready.load() < 2) std::this_thread::yield();  // bounded: both threads start
        try {
            payments::RefundOptions o;
            o.invoice_id = invoice;
            o.amount = 6000;
            o.idempotency_key = key;
            o.deadline = std::chrono::system_clock::now() + std::chrono::seconds(30);
            if (payments::RefundIssuer(db.context).refund(o)["status"] == "succeeded") ++succeeded;
        } catch (const InputError&) {
            ++refused;
        }
    };
    std::thread a(attempt, "race-a");
    std::thread b(attempt, "race-b");
    a.join();
    b.join();
    CHECK(succeeded == 1);
    CHECK(refused == 1);
    CHECK(db.scalar("SELECT sum(amount) FROM refunds") == 6000);
    CHECK(db.scalar("SELECT count(*) FROM sandbox_operations WHERE kind = 'refund'") == 1);
    CHECK(db.ledger_ok());
}

TEST_CASE("Billing.Refunds.LostAnswerIsResolvedByReconcileWithOneCreditNote") {
    MoneyDatabase db;
    const long long invoice = db.paid_invoice("EUR", 4000, 190000);  // 47.60
    // The sandbox performs this refund and loses its answer (see sandbox_gateway.hpp).
    auto lost = db.refund(invoice, 1000, "lost-1", "sandbox_answer_lost");
    CHECK(lost["status"] == "unknown");
    CHECK(lost["credit_note_id"].is_null());
    CHECK(db.scalar("SELECT count(*) FROM credit_notes") == 0);
    CHECK(db.scalar("SELECT count(*) FROM sandbox_operations WHERE kind = 'refund' AND "
                    "status = 'succeeded'") == 1);
    // While it is unknown its amount stays reserved: the rest is 37.60, not 47.60.
    CHECK_THROWS_AS(db.refund(invoice, 3761, "meanwhile"), InputError);
    CHECK(db.ledger_ok());

    test::CliOptions cli;
    cli.env["ARTISTSAID_DATABASE_URL"] = db.db.url();
    auto run = test::run_cli({"--json", "payments", "reconcile", "--min-age", "0s"}, cli);
    INFO(run.out, run.err);
    REQUIRE(run.exit_code == 0);
    auto report = nlohmann::json::parse(run.out);
    CHECK(report["resolved"] == 1);
    CHECK(report["changes"][0]["table"] == "refunds");
    CHECK(report["changes"][0]["new_status"] == "succeeded");
    CHECK(db.text("SELECT status FROM refunds WHERE idempotency_key = 'lost-1'") == "succeeded");
    CHECK(db.scalar("SELECT count(*) FROM credit_notes") == 1);
    CHECK(db.text("SELECT number FROM credit_notes") == "CN-00000001");
    CHECK(db.scalar("SELECT total FROM credit_notes") == 1000);
    CHECK(db.ledger_ok());

    auto again = test::run_cli({"--json", "payments", "reconcile", "--min-age", "0s"}, cli);
    REQUIRE(again.exit_code == 0);
    CHECK(nlohmann::json::parse(again.out)["checked"] == 0);
    CHECK(db.scalar("SELECT count(*) FROM credit_notes") == 1);
    CHECK(db.scalar("SELECT count(*) FROM ledger_transactions WHERE kind = 'refund.succeeded'") ==
          1);
    CHECK(db.scalar("SELECT count(*) FROM sandbox_operations WHERE kind = 'refund'") == 1);
}

TEST_CASE("Billing.CreditNotes.WithoutMoneyToTheInvoiceOrTheClientsCredit") {
    MoneyDatabase db;
    // An unpaid invoice of 119.00: a goodwill note of 19.00 off its balance, then the rest.
    db.tax_rate("XZ", "", 190000);
    const long long client = db.client("XZ", "", "EUR");
    db.subscription(client, db.service("goodwill"), "EUR", "monthly", 1, "2026-03-01", 10000);
    db.generate("2026-03-01", "gen-unpaid");
    const long long invoice = db.scalar("SELECT id FROM invoices");
    const std::string inv = std::to_string(invoice);

    billing::CreditNoteRequest q;
    q.invoice_id = invoice;
    q.amount = 1900;
    q.reason = "goodwill";
    q.target = billing::CreditNoteTarget::kInvoice;
    q.idempotency_key = "cn-1";
    auto note = billing::CreditNoteIssuer::issue_now(db.conn, q);
    CHECK(note.number == "CN-00000001");
    CHECK(note.tax == 303);  // round(1900 * 1900 / 11900) = round(303.36)
    CHECK(note.status == "applied");
    CHECK(db.scalar("SELECT credit_applied FROM invoices WHERE id = " + inv) == 1900);
    CHECK(db.text("SELECT status FROM invoices WHERE id = " + inv) == "unpaid");
    CHECK(billing::CreditNoteIssuer::issue_now(db.conn, q).duplicate);  // same key: same note

    q.amount = 10001;  // more than the 100.00 still due
    q.idempotency_key = "cn-2";
    CHECK_THROWS_AS(billing::CreditNoteIssuer::issue_now(db.conn, q), InputError);
    q.amount = 10000;
    auto closing = billing::CreditNoteIssuer::issue_now(db.conn, q);
    CHECK(closing.number == "CN-00000002");
    CHECK(db.text("SELECT status FROM invoices WHERE id = " + inv) == "paid");

    // Nothing is left to credit on it, not even to the client's balance.
    q.amount = 1;
    q.target = billing::CreditNoteTarget::kClientCredit;
    q.idempotency_key = "cn-3";
    CHECK_THROWS_AS(billing::CreditNoteIssuer::issue_now(db.conn, q), InputError);
    CHECK(db.scalar("SELECT count(*) FROM credit_notes") == 2);
    CHECK(db.ledger_ok());

    // To the client's credit: a paid invoice, 25.00 of goodwill; the next run uses it.
    const long long paid = db.paid_invoice("EUR", 5000, 0, "5555555555554444");
    q.invoice_id = paid;
    q.amount = 2500;
    q.idempotency_key = "cn-4";
    auto credit = billing::CreditNoteIssuer::issue_now(db.conn, q);
    CHECK(credit.number == "CN-00000003");
    const std::string paid_client = std::to_string(
        db.scalar("SELECT client_id FROM invoices WHERE id = " + std::to_string(paid)));
    CHECK(db.scalar("SELECT balance FROM client_credit_balances WHERE client_id = " +
                    paid_client) == 2500);
    CHECK(db.scalar("SELECT count(*) FROM credits WHERE kind = 'credit_note'") == 1);
    db.generate("2026-04-01", "gen-april");
    CHECK(db.scalar("SELECT credit_applied FROM invoices WHERE client_id = " + paid_client +
                    " AND issue_date = '2026-04-01'") == 2500);
    CHECK(db.ledger_ok());
}

TEST_CASE("Billing.Steps.RefundCreditNoteAndChangePlanAsAWorkflowCallsThem") {
    MoneyDatabase db;
    runtime::StepRegistry steps;
    billing::register_billing_steps(steps, db.context.connect);
    payments::register_payments_steps(steps, db.context);
    const long long invoice = db.paid_invoice("EUR", 2000, 0);
    auto call = [&](const char* step, nlohmann::json with, const std::string& key) {
        runtime::StepCall c;
        c.idempotency_key = key;
        c.with = std::move(with);
        c.deadline = std::chrono::system_clock::now() + std::chrono::seconds(30);
        auto* plugin = steps.find(step);
        REQUIRE(plugin != nullptr);
        return plugin->run(c);
    };
    auto refund = call("payments.refund", {{"invoice_id", invoice}, {"amount", 500}}, "run:r:0");
    REQUIRE(refund.kind == runtime::StepResult::Kind::kSucceeded);
    CHECK(refund.outputs["status"] == "succeeded");
    CHECK(refund.outputs["credit_note_number"] == "CN-00000001");
    // A redelivery of the same step execution: the same refund, no second gateway call.
    auto redelivered =
        call("payments.refund", {{"invoice_id", invoice}, {"amount", 500}}, "run:r:0");
    CHECK(redelivered.outputs["replayed"] == true);
    CHECK(db.scalar("SELECT count(*) FROM sandbox_operations WHERE kind = 'refund'") == 1);
    CHECK_THROWS_AS(call("payments.refund", {{"amount", 500}}, "run:r:1"), InputError);

    auto note = call(
        "billing.credit_note",
        {{"invoice_id", invoice}, {"amount", 300}, {"reason", "goodwill"}, {"to_credit", true}},
        "run:cn:0");
    CHECK(note.outputs["number"] == "CN-00000002");
    CHECK(
        call(
            "billing.credit_note",
            {{"invoice_id", invoice}, {"amount", 300}, {"reason", "goodwill"}, {"to_credit", true}},
            "run:cn:0")
            .outputs["replayed"] == true);

    auto change =
        call("billing.change_plan",
             {{"subscription_id", 1}, {"price", "40.00"}, {"on", "2026-03-11"}}, "run:cp:0");
    CHECK(change.outputs["net"] == 1355);  // 2000 -> 4000 for 21 of 31 days: -1355 + 2710
    CHECK(db.scalar("SELECT count(*) FROM credit_notes") == 2);
    CHECK(db.ledger_ok());
}
