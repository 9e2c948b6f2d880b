// payments.refund_credit against a real PostgreSQL and the sandbox gateway (and the strict
// local Stripe where the gateway's refund itself matters): client credit that came from
// overpayments paid back against the overpaying payments newest first, never beyond each
// overpayment nor the balance, write-ahead with the credit reserved, concurrent requests,
// lost answers finished once by the reconciler, failed refunds giving the credit back, and
// bad input refused with nothing written.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "engine/core/error.hpp"
#include "engine/http/http_client.hpp"
#include "gateways/stripe/stripe_gateway.hpp"
#include "plugins/billing/billing_steps.hpp"
#include "plugins/billing/credit_note_issuer.hpp"
#include "plugins/billing/credit_refund_recorder.hpp"
#include "plugins/payments/payments_steps.hpp"
#include "tests/integration/billing/credit_fixture.hpp"
#include "tests/support/cli_runner.hpp"
#include "tests/support/local_server.hpp"

using namespace artistsaid;
using artistsaid::test::CreditDatabase;

namespace {

// A client with two invoices, each overpaid through the sandbox: by 30.00 (older) and 20.00.
struct TwoOverpayments {
    explicit TwoOverpayments(CreditDatabase& db) {
        client = db.card_client("EUR");
        older = db.unpaid_invoice(client, "EUR", 10000, "2026-03-01");
        newer = db.unpaid_invoice(client, "EUR", 5000, "2026-04-01");
        older_payment = db.overpay(older, 3000);
        newer_payment = db.overpay(newer, 2000);
    }
    long long client = 0, older = 0, newer = 0, older_payment = 0, newer_payment = 0;
};

long long written(CreditDatabase& db) {
    return db.scalar(
        "SELECT (SELECT count(*) FROM refunds) + (SELECT count(*) FROM credits) + "
        "(SELECT count(*) FROM ledger_transactions) + (SELECT count(*) FROM sandbox_operations)");
}

}  // namespace

TEST_CASE("Billing.CreditRefunds.NewestOverpaymentFirstNeverBeyondEachOrTheBalance") {
    CreditDatabase db;
    TwoOverpayments t(db);
    REQUIRE(db.credit_balance(t.client, "EUR") == 5000);
    REQUIRE(db.ledger_ok());

    auto first = db.refund_credit(t.client, "EUR", 2500, "credit-refund-1");
    INFO(first.dump());
    CHECK(first["status"] == "succeeded");
    CHECK(first["amount"] == 2500);
    CHECK(first["refunded_amount"] == 2500);
    CHECK(first["refunded"] == true);
    REQUIRE(first["refunds"].size() == 2);
    // Newest first: all of the newer payment's 20.00, then 5.00 of the older one's.
    CHECK(first["refunds"][0]["payment_id"] == t.newer_payment);
    CHECK(first["refunds"][0]["amount"] == 2000);
    CHECK(first["refunds"][1]["payment_id"] == t.older_payment);
    CHECK(first["refunds"][1]["amount"] == 500);
    CHECK(first["credit_balance"] == 2500);
    CHECK(db.credit_balance(t.client, "EUR") == 2500);
    CHECK(db.sandbox_refunds() == 2);
    // Each gateway refund is against its own payment's charge, with its own key.
    CHECK(db.scalar("SELECT count(*) FROM refunds r JOIN payments p ON p.id = r.payment_id "
                    "JOIN sandbox_operations o ON o.kind = 'refund' AND o.idempotency_key = "
                    "r.idempotency_key WHERE r.kind = 'client_credit' AND r.status = "
                    "'succeeded'") == 2);
    CHECK(db.scalar("SELECT count(*) FROM credits WHERE kind = 'refund'") == 2);
    CHECK(db.balance("refunds", "EUR") == 0);  // nothing in flight
    CHECK(db.scalar("SELECT count(*) FROM credit_notes") == 0);
    CHECK(db.text("SELECT string_agg(status, ',') FROM invoices WHERE client_id = " +
                  std::to_string(t.client)) == "paid,paid");
    CHECK(db.ledger_ok());

    // The same key: the stored outcome, no gateway call.
    auto again = db.refund_credit(t.client, "EUR", 2500, "credit-refund-1");
    CHECK(again["replayed"] == true);
    CHECK(again["refunded"] == false);
    CHECK(again["refunds"] == first["refunds"]);
    CHECK(db.sandbox_refunds() == 2);
    CHECK(test::contains(
        test::input_error_of([&] { db.refund_credit(t.client, "USD", 2500, "credit-refund-1"); }),
        "belongs to a credit refund of client"));

    // More than is left (25.00) is refused, then exactly what is left is refunded, from the
    // older payment only (the newer one's overpayment is used up).
    CHECK(test::contains(
        test::input_error_of([&] { db.refund_credit(t.client, "EUR", 2501, "too-much"); }),
        "exceeds the credit balance of 25.00 EUR"));
    auto rest = db.refund_credit(t.client, "EUR", 2500, "credit-refund-2");
    CHECK(rest["status"] == "succeeded");
    REQUIRE(rest["refunds"].size() == 1);
    CHECK(rest["refunds"][0]["payment_id"] == t.older_payment);
    CHECK(db.credit_balance(t.client, "EUR") == 0);
    CHECK(test::contains(
        test::input_error_of([&] { db.refund_credit(t.client, "EUR", 1, "nothing-left"); }),
        "has no credit in EUR"));
    CHECK(db.sandbox_refunds() == 3);

    // What each payment paid on its invoice stays refundable by payments.refund, apart: the
    // credit refunds took only the overpayments.
    auto invoice_refund = db.refund(t.older, std::nullopt, "invoice-refund");
    CHECK(invoice_refund["status"] == "succeeded");
    CHECK(invoice_refund["amount"] ==
          db.scalar("SELECT total FROM invoices WHERE id = " + std::to_string(t.older)));
    CHECK(invoice_refund["invoice_status"] == "refunded");
    CHECK(db.balance("gateway_clearing", "EUR") ==
          db.scalar("SELECT total FROM invoices WHERE id = " + std::to_string(t.newer)));
    CHECK(db.ledger_ok());
}

TEST_CASE("Billing.CreditRefunds.BadInputIsRefusedAndWritesNothing") {
    CreditDatabase db;
    TwoOverpayments t(db);
    // Credit that came from a credit note, not from a payment, is not refundable through a
    // gateway; another client has only that.
    const long long other = db.card_client("EUR");
    const long long other_invoice = db.unpaid_invoice(other, "EUR", 4000, "2026-03-01");
    billing::CreditNoteRequest note;
    note.invoice_id = other_invoice;
    note.amount = 1000;
    note.reason = "goodwill";
    note.target = billing::CreditNoteTarget::kClientCredit;
    note.idempotency_key = "goodwill";
    billing::CreditNoteIssuer::issue_now(db.conn, note);
    const long long before = written(db);

    auto refused = [&](long long client, const std::string& currency, long long amount) {
        return test::input_error_of(
            [&] { db.refund_credit(client, currency, amount, "bad:" + currency); });
    };
    CHECK(test::contains(refused(999999, "EUR", 100), "no client 999999"));
    CHECK(test::contains(refused(t.client, "USD", 100), "has no credit in USD"));
    CHECK(test::contains(refused(t.client, "USD", 100), "EUR 5000"));
    CHECK(test::contains(refused(t.client, "XYZ", 100), "currency"));
    CHECK(test::contains(refused(t.client, "EUR", 5001), "exceeds the credit balance"));
    CHECK(test::contains(refused(t.client, "EUR", 0), "amount must be positive"));
    CHECK(test::contains(refused(other, "EUR", 500), "came from overpayments"));
    CHECK(written(db) == before);
    CHECK(db.credit_balance(t.client, "EUR") == 5000);
    CHECK(db.ledger_ok());
}

TEST_CASE("Billing.CreditRefunds.ConcurrentRequestsNeverRefundMoreThanTheBalance") {
    CreditDatabase db;
    TwoOverpayments t(db);  // 50.00 of credit
    constexpr int kRequests = 8;
    std::atomic<int> succeeded{0}, refused{0}, other{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kRequests; ++i) {
        threads.emplace_back([&, i] {
            try {
                auto out = db.refund_credit(t.client, "EUR", 1500, "race-" + std::to_string(i));
                if (out["status"] == "succeeded")
                    ++succeeded;
                else
                    ++other;
            } catch (const InputError&) {
                ++refused;
            } catch (const std::exception&) {
                ++other;
            }
        });
    }
    for (auto& th : threads) th.join();
    // 3 x 15.00 fit in 50.00; a fourth would not.
    CHECK(succeeded == 3);
    CHECK(refused == kRequests - 3);
    CHECK(other == 0);
    CHECK(db.credit_balance(t.client, "EUR") == 500);
    CHECK(db.scalar("SELECT coalesce(sum(amount), 0) FROM refunds WHERE kind = 'client_credit' "
                    "AND status = 'succeeded'") == 4500);
    CHECK(db.scalar("SELECT coalesce(sum(amount), 0) FROM sandbox_operations WHERE kind = "
                    "'refund' AND status = 'succeeded'") == 4500);
    CHECK(db.ledger_ok());
}

TEST_CASE(
    "Billing.CreditRefunds.LostAnswerIsFinishedOnceByReconcileAndAFailureGivesTheCreditBack") {
    CreditDatabase db;
    TwoOverpayments t(db);
    // The sandbox refunds and loses the answer: the credit stays reserved meanwhile.
    auto lost = db.refund_credit(t.client, "EUR", 1000, "lost", "sandbox_answer_lost");
    CHECK(lost["status"] == "unknown");
    CHECK(db.credit_balance(t.client, "EUR") == 4000);
    CHECK(db.balance("refunds", "EUR") == -1000);  // in flight
    CHECK(db.ledger_ok());
    // The next invoice run cannot spend the reserved credit: only 40.00 is applied.
    const long long next = db.unpaid_invoice(t.client, "EUR", 10000, "2026-05-01");
    CHECK(db.scalar("SELECT credit_applied FROM invoices WHERE id = " + std::to_string(next)) ==
          4000);
    CHECK(db.credit_balance(t.client, "EUR") == 0);

    test::CliOptions cli;
    cli.env["ARTISTSAID_DATABASE_URL"] = db.db.url();
    auto run = test::run_cli({"--json", "payments", "reconcile", "--min-age", "0s"}, cli);
    INFO(run.out, run.err);
    REQUIRE(run.exit_code == 0);
    CHECK(nlohmann::json::parse(run.out)["resolved"] == 1);
    CHECK(db.text("SELECT status FROM refunds WHERE request_key = 'lost'") == "succeeded");
    CHECK(db.scalar("SELECT count(*) FROM ledger_transactions WHERE kind = 'refund.succeeded'") ==
          1);
    CHECK(db.balance("refunds", "EUR") == 0);
    auto again = test::run_cli({"--json", "payments", "reconcile", "--min-age", "0s"}, cli);
    REQUIRE(again.exit_code == 0);
    CHECK(nlohmann::json::parse(again.out)["checked"] == 0);
    CHECK(db.scalar("SELECT count(*) FROM ledger_transactions WHERE kind = 'refund.succeeded'") ==
          1);
    CHECK(db.sandbox_refunds() == 1);
    CHECK(db.ledger_ok());

    // A payment whose charge the gateway does not know: its refund fails and the reserved
    // credit comes back, once.
    CreditDatabase db2;
    const long long client = db2.card_client("EUR");
    const long long invoice = db2.unpaid_invoice(client, "EUR", 3000, "2026-03-01");
    {
        const long long due = db2.due(invoice);
        pqxx::work tx(db2.conn);
        billing::PaymentRecorder::record_succeeded(tx, invoice, due + 700, "EUR", "sandbox",
                                                   "sbx_ch_unknown_to_the_sandbox",
                                                   "manual-overpayment");
        tx.commit();
    }
    REQUIRE(db2.credit_balance(client, "EUR") == 700);
    auto failed = db2.refund_credit(client, "EUR", 700, "fails");
    INFO(failed.dump());
    CHECK(failed["status"] == "failed");
    CHECK(failed["refunds"][0]["error"] != "");
    CHECK(db2.credit_balance(client, "EUR") == 700);
    CHECK(db2.scalar("SELECT count(*) FROM ledger_transactions WHERE kind = "
                     "'credit_refund.released'") == 1);
    CHECK(db2.balance("refunds", "EUR") == 0);
    CHECK(db2.ledger_ok());
}

TEST_CASE("Billing.CreditRefunds.AWriteAheadWhoseCallNeverLeftIsFailedByReconcileAndReleased") {
    CreditDatabase db;
    TwoOverpayments t(db);
    // What a process that died between the write-ahead commit and the gateway call leaves: a
    // reserved unknown row the gateway never saw.
    {
        pqxx::work tx(db.conn);
        const auto id =
            tx.exec_params1(
                  "INSERT INTO refunds (payment_id, amount, currency, idempotency_key, "
                  "status, kind, request_key) VALUES ($1::bigint, 1500, 'EUR', 'died:p' || "
                  "$1::bigint, 'unknown', 'client_credit', 'died') RETURNING id",
                  t.newer_payment)[0]
                .as<long long>();
        billing::CreditRefundRecorder::reserve(tx, id);
        tx.commit();
    }
    CHECK(db.credit_balance(t.client, "EUR") == 3500);
    CHECK(db.ledger_ok());
    // The same request again reports it as it is and sends nothing.
    auto replay = db.refund_credit(t.client, "EUR", 1500, "died");
    CHECK(replay["status"] == "unknown");
    CHECK(replay["replayed"] == true);
    CHECK(db.sandbox_refunds() == 0);

    test::CliOptions cli;
    cli.env["ARTISTSAID_DATABASE_URL"] = db.db.url();
    auto run = test::run_cli({"--json", "payments", "reconcile", "--min-age", "0s"}, cli);
    INFO(run.out, run.err);
    REQUIRE(run.exit_code == 0);
    CHECK(nlohmann::json::parse(run.out)["changes"][0]["new_status"] == "failed");
    CHECK(db.credit_balance(t.client, "EUR") == 5000);
    CHECK(db.scalar("SELECT count(*) FROM ledger_transactions WHERE kind = "
                    "'credit_refund.released'") == 1);
    CHECK(db.balance("refunds", "EUR") == 0);
    CHECK(db.sandbox_refunds() == 0);
    CHECK(db.ledger_ok());
    // The whole credit is refundable again, with a new key.
    CHECK(db.refund_credit(t.client, "EUR", 5000, "after")["status"] == "succeeded");
    CHECK(db.ledger_ok());

    // ledger verify sees a credit refund posted without its reservation, and a balance that
    // disagrees with the credits rows.
    db.exec(
        "INSERT INTO refunds (payment_id, amount, currency, idempotency_key, status, kind, "
        "request_key) VALUES (" +
        std::to_string(t.older_payment) +
        ", 1, 'EUR', 'forged:p', 'failed', 'client_credit', 'forged')");
    auto report = billing::LedgerVerifier().verify(db.conn);
    CHECK(report["ok"] == false);
    bool credit_refunds_failed = false;
    for (const auto& c : report["checks"])
        if (c["name"] == "credit_refunds_posted") credit_refunds_failed = c["failures"] == 1;
    CHECK(credit_refunds_failed);
    CreditDatabase other;
    const long long c = other.card_client("EUR");
    other.exec("INSERT INTO client_credit_balances (client_id, currency, balance) VALUES (" +
               std::to_string(c) + ", 'EUR', 5)");
    CHECK_FALSE(billing::LedgerVerifier().verify(other.conn)["ok"].get<bool>());
}

TEST_CASE("Billing.CreditRefunds.StripeRefundsTheOverpaidPaymentIntentOnce") {
    constexpr const char* kKey = "sk_test_local_credit_refunds_0001";
    test::LocalServer stripe("stripe_server.py", {kKey});
    CreditDatabase db;
    gateways::StripeSettings settings;
    settings.base_url = stripe.base_url();
    settings.api_key = kKey;
    settings.base_delay = std::chrono::milliseconds(10);
    db.gateways.add(std::make_unique<gateways::StripeGateway>(settings));
    const long long client = db.card_client("EUR");
    const long long invoice = db.unpaid_invoice(client, "EUR", 10000, "2026-03-01");
    const long long payment = db.overpay(invoice, 2550, "stripe", "pm_card_visa");
    const std::string intent =
        db.text("SELECT gateway_reference FROM payments WHERE id = " + std::to_string(payment));
    REQUIRE(intent.rfind("pi_", 0) == 0);

    auto control = [&](const std::string& path) {
        http::HttpRequest request;
        request.method = "GET";
        request.url = stripe.base_url() + path;
        return http::HttpClient::shared().send(request).json();
    };
    auto out = db.refund_credit(client, "EUR", 2550, "stripe-credit");
    INFO(out.dump());
    CHECK(out["status"] == "succeeded");
    CHECK(out["refunds"][0]["gateway"] == "stripe");
    CHECK(control("/__control/count?kind=refund")["count"] == 1);
    nlohmann::json posted = nlohmann::json::array();
    for (const auto& r : control("/__control/requests"))
        if (r["method"] == "POST" && r["path"] == "/v1/refunds") posted.push_back(r);
    REQUIRE(posted.size() == 1);
    CHECK(posted[0]["params"]["payment_intent"] == intent);
    CHECK(posted[0]["params"]["amount"] == "2550");
    CHECK(posted[0]["idempotency_key"] == "stripe-credit:p" + std::to_string(payment));
    CHECK(db.text("SELECT gateway_reference FROM refunds WHERE request_key = 'stripe-credit'")
              .rfind("re_", 0) == 0);

    // Stripe itself refuses more than the intent has left; our bound (the overpayment) comes
    // first, so nothing is sent.
    CHECK(test::contains(
        test::input_error_of([&] { db.refund_credit(client, "EUR", 1, "stripe-more"); }),
        "has no credit in EUR"));
    auto replay = db.refund_credit(client, "EUR", 2550, "stripe-credit");
    CHECK(replay["replayed"] == true);
    CHECK(control("/__control/count?kind=refund")["count"] == 1);
    CHECK(db.credit_balance(client, "EUR") == 0);
    CHECK(db.ledger_ok());
}

TEST_CASE("Billing.Steps.RefundCreditAndVoidCreditNoteAsWorkflowSteps") {
    CreditDatabase db;
    TwoOverpayments t(db);
    runtime::StepRegistry steps;
    billing::register_billing_steps(steps, db.context.connect);
    payments::register_payments_steps(steps, db.context);
    auto call = [&](const char* step, nlohmann::json with, const std::string& key) {
        runtime::StepCall c;
        c.idempotency_key = key;
        c.with = std::move(with);
        c.deadline = std::chrono::system_clock::now() + std::chrono::seconds(30);
        auto* plugin = steps.find(step);
        REQUIRE(plugin != nullptr);
        return plugin->run(c);
    };
    const nlohmann::json with = {
        {"client_id", t.client}, {"currency", "EUR"}, {"amount", 1200}, {"reason", "asked"}};
    auto first = call("payments.refund_credit", with, "run-1:refund_credit");
    REQUIRE(first.kind == runtime::StepResult::Kind::kSucceeded);
    CHECK(first.outputs["status"] == "succeeded");
    CHECK(first.outputs["credit_balance"] == 3800);
    // A redelivery of the same execution: the same request, no second gateway call.
    auto redelivered = call("payments.refund_credit", with, "run-1:refund_credit");
    CHECK(redelivered.outputs["replayed"] == true);
    CHECK(db.sandbox_refunds() == 1);
    auto too_much = with;
    too_much["amount"] = 999999;
    CHECK_THROWS_AS(call("payments.refund_credit", too_much, "run-2:refund_credit"), InputError);

    auto note =
        call("billing.credit_note",
             {{"invoice_id", t.older}, {"amount", 300}, {"reason", "error"}, {"to_credit", true}},
             "run-3:credit_note");
    const std::string number = note.outputs["number"];
    auto voided =
        call("billing.void_credit_note", {{"number", number}, {"reason", "typo"}}, "run-4:void");
    REQUIRE(voided.kind == runtime::StepResult::Kind::kSucceeded);
    CHECK(voided.outputs["status"] == "void");
    CHECK(voided.outputs["credit_balance"] == 3800);
    CHECK(call("billing.void_credit_note", {{"number", number}}, "run-4:void")
              .outputs["already_void"] == true);
    CHECK(db.ledger_ok());
}
