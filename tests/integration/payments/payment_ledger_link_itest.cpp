// The payment → ledger transaction link (payments.ledger_transaction_id, migration 0020):
// the batch path posts one ledger transaction per batch and currency and links each payment
// to it, the single path links its own posting, every "posted already?" check reads the
// link, refunds still work on batch-posted payments, and `ledger verify` finds a tampered
// link, amount or overpayment credit.
#include <doctest/doctest.h>

#include <filesystem>
#include <unistd.h>

#include "engine/store/migrator.hpp"
#include "plugins/billing/batch_payment_recorder.hpp"
#include "plugins/billing/ledger_verifier.hpp"
#include "plugins/billing/payment_recorder.hpp"
#include "plugins/payments/credit_refund_issuer.hpp"
#include "tests/integration/payments/batch_charge_fixture.hpp"
#include "tests/support/temp_database.hpp"

namespace artistsaid {
namespace {

using test::BatchChargeDatabase;

const std::string kSucceeds = "4242424242424242";
const std::string kDeclined = "4000000000000002";
const std::string kAnswerLost = "4000000000000341";

// Invoices in three currencies, two of them declined or left unknown.
std::vector<long long> seed(BatchChargeDatabase& db) {
    return {db.unpaid_invoice("USD", 1999, 190000, kSucceeds),
            db.unpaid_invoice("USD", 1000, 0, kSucceeds),
            db.unpaid_invoice("EUR", 2500, 0, kSucceeds),
            db.unpaid_invoice("EUR", 2600, 0, kDeclined),
            db.unpaid_invoice("JPY", 1500, 100000, kSucceeds),
            db.unpaid_invoice("JPY", 700, 0, kSucceeds),
            db.unpaid_invoice("USD", 1200, 0, kAnswerLost)};
}

// The failures `ledger verify` reports for one check.
long long failures(BatchChargeDatabase& db, const std::string& check) {
    const auto report = billing::LedgerVerifier().verify(db.conn);
    for (const auto& c : report["checks"])
        if (c["name"] == check) {
            if (c["failures"].get<long long>() > 0) MESSAGE(c.dump());
            return c["failures"].get<long long>();
        }
    FAIL("no check named " << check);
    return -1;
}

// The message of whatever `f` throws ("<nothing thrown>" if it throws nothing).
template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "<nothing thrown>";
}

bool verify_ok(BatchChargeDatabase& db) {
    return billing::LedgerVerifier().verify(db.conn)["ok"].get<bool>();
}

// A payment that overpays `invoice` by `extra`, charged at the sandbox and recorded by the
// batch outcome path (written ahead as unknown, then BatchPaymentRecorder::record_outcomes).
long long batch_overpay(BatchChargeDatabase& db, long long invoice, long long extra) {
    const std::string currency = db.text("SELECT currency FROM invoices WHERE id = " +
                                         std::to_string(invoice));
    const long long due = db.scalar("SELECT total - credit_applied - amount_paid FROM invoices "
                                    "WHERE id = " + std::to_string(invoice));
    gateways::ChargeRequest charge;
    charge.idempotency_key = "overpay:" + std::to_string(invoice);
    charge.deadline = std::chrono::system_clock::now() + std::chrono::seconds(30);
    charge.amount = Money(due + extra, Currency::from_code(currency));
    charge.payment_method_reference = kSucceeds;
    charge.description = "invoice " + std::to_string(invoice);
    const auto result = db.gateways.get("sandbox").charge(charge);
    REQUIRE(result.status == gateways::OperationStatus::kSucceeded);
    const long long payment = db.scalar(
        "INSERT INTO payments (invoice_id, gateway, idempotency_key, amount, currency, status) "
        "VALUES (" + std::to_string(invoice) + ", 'sandbox', '" + charge.idempotency_key + "', " +
        std::to_string(due + extra) + ", '" + currency + "', 'unknown') RETURNING id");
    pqxx::work tx(db.conn);
    const auto recorded = billing::BatchPaymentRecorder::record_outcomes(
        tx, {{payment, "succeeded", result.provider_id, "", ""}});
    tx.commit();
    REQUIRE(recorded.posted == 1);
    return payment;
}

}  // namespace

TEST_CASE("Payments.LedgerLink.BatchPostsOneTransactionPerCurrencyAndLinksEveryPayment") {
    BatchChargeDatabase db;
    const auto invoices = seed(db);
    db.charge_batch(invoices, "link:");
    CHECK(db.scalar("SELECT count(*) FROM payments WHERE status = 'succeeded'") == 5);
    CHECK(db.scalar("SELECT count(*) FROM payments WHERE status = 'succeeded' AND "
                    "ledger_transaction_id IS NULL") == 0);
    CHECK(db.scalar("SELECT count(*) FROM payments WHERE status <> 'succeeded' AND "
                    "ledger_transaction_id IS NOT NULL") == 0);
    // One posting per currency (USD, EUR, JPY), not one per payment.
    CHECK(db.scalar("SELECT count(*) FROM ledger_transactions WHERE kind = 'payment.succeeded'") == 3);
    CHECK(db.scalar("SELECT count(DISTINCT ledger_transaction_id) FROM payments") == 3);
    CHECK(db.scalar("SELECT count(*) FROM (SELECT ledger_transaction_id FROM payments WHERE "
                    "ledger_transaction_id IS NOT NULL GROUP BY 1 HAVING count(DISTINCT "
                    "currency) > 1) x") == 0);
    // Each posting's gateway_clearing entry is the sum of its payments.
    CHECK(db.scalar("SELECT count(*) FROM (SELECT p.ledger_transaction_id, sum(p.amount) AS paid "
                    "FROM payments p WHERE p.ledger_transaction_id IS NOT NULL GROUP BY 1) s "
                    "WHERE s.paid <> (SELECT sum(e.amount) FROM ledger_entries e JOIN "
                    "ledger_accounts a ON a.id = e.account_id AND a.code = 'gateway_clearing' "
                    "WHERE e.transaction_id = s.ledger_transaction_id)") == 0);
    CHECK(db.balance("gateway_clearing", "USD") ==
          db.scalar("SELECT sum(amount) FROM payments WHERE status = 'succeeded' AND "
                    "currency = 'USD'"));
    CHECK(verify_ok(db));

    // The unknown one, resolved by the reconciler: posted alone ('payment:<id>') and linked.
    CHECK(db.reconcile().resolved == 1);
    CHECK(db.scalar("SELECT count(*) FROM payments WHERE status = 'succeeded' AND "
                    "ledger_transaction_id IS NULL") == 0);
    CHECK(db.scalar("SELECT count(*) FROM ledger_transactions t JOIN payments p ON "
                    "p.ledger_transaction_id = t.id WHERE t.reference = 'payment:' || p.id") == 1);
    CHECK(verify_ok(db));

    // Charging the same batch again posts nothing.
    const long long postings =
        db.scalar("SELECT count(*) FROM ledger_transactions WHERE kind = 'payment.succeeded'");
    db.charge_batch(invoices, "link:");
    CHECK(db.scalar("SELECT count(*) FROM ledger_transactions WHERE kind = 'payment.succeeded'") ==
          postings);
    CHECK(verify_ok(db));
}

TEST_CASE("Payments.LedgerLink.BatchAndSinglePathsGiveTheSameInvoicesAndLedgerTotals") {
    BatchChargeDatabase single;
    BatchChargeDatabase batch;
    const auto invoices = seed(single);
    REQUIRE(seed(batch) == invoices);
    for (auto id : invoices) single.charge_one(id, "k:" + std::to_string(id));
    batch.charge_batch(invoices, "k:");
    single.reconcile();
    batch.reconcile();
    CHECK(batch.outcome_table() == single.outcome_table());
    CHECK(batch.ledger_table() == single.ledger_table());
    // The single path: one posting per payment, each 'payment:<id>' and linked.
    CHECK(single.scalar("SELECT count(*) FROM payments p JOIN ledger_transactions t ON "
                        "t.id = p.ledger_transaction_id AND t.reference = 'payment:' || p.id") == 6);
    CHECK(batch.scalar("SELECT count(*) FROM ledger_transactions WHERE kind = "
                       "'payment.succeeded'") < single.scalar(
                           "SELECT count(*) FROM ledger_transactions WHERE kind = "
                           "'payment.succeeded'"));
    CHECK(verify_ok(single));
    CHECK(verify_ok(batch));
}

TEST_CASE("Payments.LedgerLink.SingleRecorderSeesABatchPostingAndPostsNothingAgain") {
    BatchChargeDatabase db;
    const auto invoices = seed(db);
    db.charge_batch(invoices, "once:");
    const long long payment =
        db.scalar("SELECT id FROM payments WHERE invoice_id = " + std::to_string(invoices[0]));
    const std::string before = db.ledger_table();
    {
        pqxx::work tx(db.conn);
        const auto again = billing::PaymentRecorder::record_resolved(tx, payment);
        CHECK(again.duplicate);
        CHECK(again.invoice_paid);
        tx.commit();
    }
    {
        pqxx::work tx(db.conn);
        CHECK(billing::BatchPaymentRecorder::record_resolved(tx, {payment}) == 0);
        // An outcome for a payment no longer unknown changes nothing either.
        const auto r = billing::BatchPaymentRecorder::record_outcomes(
            tx, {{payment, "succeeded", "", "", ""}});
        CHECK(r.settled == 0);
        CHECK(r.posted == 0);
        tx.commit();
    }
    CHECK(db.ledger_table() == before);
    {
        // A batch mixing it (now with a declined outcome) and a payment still unknown: only
        // the unknown one is settled.
        const long long fresh = db.scalar(
            "INSERT INTO payments (invoice_id, gateway, idempotency_key, amount, currency, status) "
            "SELECT id, 'sandbox', 'still-unknown', 1, currency, 'unknown' FROM invoices WHERE id = " +
            std::to_string(invoices[0]) + " RETURNING id");
        pqxx::work tx(db.conn);
        const auto r = billing::BatchPaymentRecorder::record_outcomes(
            tx, {{payment, "declined", "", "card_declined", ""},
                 {fresh, "declined", "", "card_declined", ""}});
        CHECK(r.settled == 1);
        CHECK(r.posted == 0);
        tx.commit();
        CHECK(db.text("SELECT status FROM payments WHERE id = " + std::to_string(payment)) == "succeeded");
        CHECK(db.text("SELECT status || ':' || decline_code FROM payments WHERE id = " +
                      std::to_string(fresh)) == "declined:card_declined");
    }
    CHECK(db.ledger_table() == before);
    CHECK(db.scalar("SELECT amount_paid FROM invoices WHERE id = " + std::to_string(invoices[0])) ==
          db.scalar("SELECT amount FROM payments WHERE id = " + std::to_string(payment)));
    // The database refuses a link on a payment that did not succeed.
    const long long declined =
        db.scalar("SELECT id FROM payments WHERE status = 'declined' LIMIT 1");
    CHECK_THROWS(db.exec("UPDATE payments SET ledger_transaction_id = (SELECT min(id) FROM "
                         "ledger_transactions) WHERE id = " + std::to_string(declined)));
    // ... and a link to a ledger transaction that does not exist (UPDATE or INSERT).
    const long long paid = db.scalar("SELECT id FROM payments WHERE status = 'succeeded' LIMIT 1");
    CHECK(test::contains(error_of([&] {
              db.exec("UPDATE payments SET ledger_transaction_id = 987654 WHERE id = " +
                      std::to_string(paid));
          }), "ledger transaction 987654 does not exist"));
    CHECK(test::contains(error_of([&] {
              db.exec("INSERT INTO payments (invoice_id, gateway, idempotency_key, amount, "
                      "currency, status, ledger_transaction_id) SELECT id, 'sandbox', 'x', 1, "
                      "currency, 'succeeded', 987654 FROM invoices LIMIT 1");
          }), "ledger transaction 987654 does not exist"));
    CHECK(verify_ok(db));
}

TEST_CASE("Payments.LedgerLink.RefundsOfBatchPostedPaymentsWork") {
    BatchChargeDatabase db;
    const auto invoices = seed(db);
    db.charge_batch(invoices, "r:");
    // An invoice refund of a batch-posted payment, in part then the rest.
    const long long invoice = invoices[2];  // EUR 25.00
    CHECK(db.refund(invoice, 1000, "refund-1")["status"] == "succeeded");
    CHECK(db.refund(invoice, std::nullopt, "refund-2")["status"] == "succeeded");
    CHECK(db.text("SELECT status FROM invoices WHERE id = " + std::to_string(invoice)) ==
          "refunded");
    CHECK_THROWS_AS(db.refund(invoice, 1, "refund-3"), InputError);  // nothing left to refund
    CHECK(verify_ok(db));

    // Client credit from a batch-posted overpayment, refunded through the gateway.
    const long long over_invoice = db.unpaid_invoice("USD", 3000, 0, kSucceeds);
    const long long payment = batch_overpay(db, over_invoice, 450);
    CHECK(db.scalar("SELECT amount FROM credits WHERE kind = 'overpayment' AND "
                    "ledger_transaction_id = (SELECT ledger_transaction_id FROM payments WHERE "
                    "id = " + std::to_string(payment) + ")") == 450);
    CHECK(verify_ok(db));
    payments::CreditRefundOptions o;
    o.client_id = db.scalar("SELECT client_id FROM invoices WHERE id = " + std::to_string(over_invoice));
    o.currency = "USD";
    o.amount = 450;
    o.reason = "client asked";
    o.idempotency_key = "credit-refund-1";
    o.deadline = std::chrono::system_clock::now() + std::chrono::seconds(30);
    CHECK(payments::CreditRefundIssuer(db.context).refund(o)["status"] == "succeeded");
    CHECK(db.scalar("SELECT balance FROM client_credit_balances WHERE client_id = " +
                    std::to_string(o.client_id) + " AND currency = 'USD'") == 0);
    CHECK(verify_ok(db));
}

TEST_CASE("Ledger.Verify.FindsATamperedPaymentPosting") {
    BatchChargeDatabase db;
    const auto invoices = seed(db);
    db.charge_batch(invoices, "t:");
    const long long over_invoice = db.unpaid_invoice("EUR", 3000, 0, kSucceeds);
    const long long over_payment = batch_overpay(db, over_invoice, 300);
    REQUIRE(verify_ok(db));
    const std::string usd_payment =
        std::to_string(db.scalar("SELECT id FROM payments WHERE invoice_id = " +
                                 std::to_string(invoices[0])));

    SUBCASE("a succeeded payment without its link") {
        db.exec("UPDATE payments SET ledger_transaction_id = NULL WHERE id = " + usd_payment);
        CHECK(failures(db, "payments_linked") == 1);
        CHECK(failures(db, "payment_postings_match") == 1);  // the posting lost a payment
    }
    SUBCASE("a payment linked to another currency's posting") {
        db.exec("UPDATE payments SET ledger_transaction_id = (SELECT ledger_transaction_id FROM "
                "payments WHERE invoice_id = " + std::to_string(invoices[2]) + ") WHERE id = " +
                usd_payment);
        CHECK(failures(db, "payment_postings_match") >= 2);  // USD short, EUR's has USD
        CHECK(failures(db, "payments_linked") == 0);
    }
    SUBCASE("a payment's amount changed after it was posted") {
        db.exec("UPDATE payments SET amount = amount + 1 WHERE id = " + usd_payment);
        CHECK(failures(db, "payment_postings_match") == 1);
    }
    SUBCASE("a payment posted a second time, unlinked") {
        db.exec("INSERT INTO ledger_transactions (kind, reference, idempotency_key) "
                "VALUES ('payment.succeeded', 'payment:" + usd_payment + "', 'again'); "
                "INSERT INTO ledger_entries (transaction_id, account_id, amount, currency) "
                "SELECT currval(pg_get_serial_sequence('ledger_transactions', 'id')), a.id, "
                "e.amount, 'USD' FROM (VALUES ('gateway_clearing', 100), ('receivable', -100)) "
                "e(code, amount) JOIN ledger_accounts a ON a.code = e.code");
        CHECK(failures(db, "payment_postings_match") == 1);  // a posting of no payment
    }
    SUBCASE("a payment linked to a posting of another kind") {
        db.exec("UPDATE payments SET ledger_transaction_id = (SELECT min(id) FROM "
                "ledger_transactions WHERE kind = 'invoice.issued') WHERE id = " + usd_payment);
        CHECK(failures(db, "payments_linked") == 1);
    }
    SUBCASE("an overpayment credit moved to another posting") {
        // credits is append-only: a tampering repair has to switch its trigger off.
        db.exec("ALTER TABLE credits DISABLE TRIGGER credits_append_only; "
                "UPDATE credits SET ledger_transaction_id = (SELECT ledger_transaction_id FROM "
                "payments WHERE invoice_id = " + std::to_string(invoices[2]) + ") WHERE "
                "kind = 'overpayment' AND idempotency_key = (SELECT idempotency_key || "
                "':overpayment' FROM payments WHERE id = " + std::to_string(over_payment) + "); "
                "ALTER TABLE credits ENABLE TRIGGER credits_append_only");
        CHECK(failures(db, "overpayments_in_their_posting") == 1);
        CHECK(failures(db, "payment_postings_match") == 2);  // one lost it, one gained it
    }
    CHECK_FALSE(verify_ok(db));
}

TEST_CASE("Migrations.PaymentLedgerLink.BackfillsPostedPaymentsFromTheirReference") {
    // A database at the schema before 0020, with a payment posted the old way.
    test::TempDatabase db;
    const auto all = std::filesystem::path(test::source_dir()) / "migrations";
    const auto dir = std::filesystem::temp_directory_path() /
                     ("aa-migrations-0020-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    for (const auto& f : std::filesystem::directory_iterator(all))
        if (f.path().extension() == ".sql" && f.path().filename().string() < "0020")
            std::filesystem::copy_file(f.path(), dir / f.path().filename(),
                                       std::filesystem::copy_options::overwrite_existing);
    store::Migrator(db.url(), dir).up();
    pqxx::connection conn(db.url());
    auto q = [&](const std::string& sql) {
        pqxx::work tx(conn);
        auto r = tx.exec(sql);
        tx.commit();
        return r;
    };
    q("WITH u AS (INSERT INTO users (email) VALUES ('a@example.test') RETURNING id) "
      "INSERT INTO clients (kind, user_id, name, country, currency) SELECT 'user', id, 'A', "
      "'DE', 'EUR' FROM u");
    q("INSERT INTO invoices (client_id, number, currency, status, issue_date, due_date, subtotal, "
      "tax, total, amount_paid) SELECT id, 'INV-1', 'EUR', 'paid', '2026-03-01', '2026-03-01', "
      "500, 0, 500, 500 FROM clients");
    q("INSERT INTO payments (invoice_id, gateway, idempotency_key, amount, currency, status, "
      "updated_at) SELECT id, 'sandbox', 'old', 500, 'EUR', 'succeeded', "
      "'2026-03-01 12:00+00' FROM invoices; "
      "INSERT INTO payments (invoice_id, gateway, idempotency_key, amount, currency, status) "
      "SELECT id, 'sandbox', 'declined', 500, 'EUR', 'declined' FROM invoices");
    q("INSERT INTO ledger_transactions (kind, reference, idempotency_key) SELECT "
      "'payment.succeeded', 'payment:' || id, 'old:ledger' FROM payments WHERE "
      "idempotency_key = 'old'; INSERT INTO ledger_entries (transaction_id, account_id, amount, "
      "currency) SELECT currval(pg_get_serial_sequence('ledger_transactions', 'id')), a.id, "
      "e.amount, 'EUR' FROM (VALUES ('gateway_clearing', 500), ('receivable', -500)) "
      "e(code, amount) JOIN ledger_accounts a ON a.code = e.code");

    std::filesystem::copy_file(all / "0020_payment_ledger_link.sql",
                               dir / "0020_payment_ledger_link.sql");
    store::Migrator(db.url(), dir).up();
    std::filesystem::remove_all(dir);
    CHECK(q("SELECT count(*) FROM payments p JOIN ledger_transactions t ON "
            "t.id = p.ledger_transaction_id WHERE p.idempotency_key = 'old' AND "
            "t.reference = 'payment:' || p.id")[0][0].as<long long>() == 1);
    CHECK(q("SELECT ledger_transaction_id IS NULL FROM payments WHERE idempotency_key = "
            "'declined'")[0][0].as<bool>());
    // The backfill leaves updated_at alone.
    CHECK(q("SELECT updated_at = '2026-03-01 12:00+00' FROM payments WHERE idempotency_key = "
            "'old'")[0][0].as<bool>());
    for (const auto& c : billing::LedgerVerifier().verify(conn)["checks"])
        if (std::string(c["name"]).rfind("payment", 0) == 0) CHECK(c["failures"] == 0);
}

}  // namespace artistsaid
