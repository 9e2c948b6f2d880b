// Late fees, dunning (notices, suspension, termination, unsuspension when paid),
// payments with overpayment to credit, and commissions, against a real PostgreSQL; the
// ledger verifies after each.
#include <doctest/doctest.h>

#include "engine/core/error.hpp"
#include "plugins/billing/commission_distributor.hpp"
#include "plugins/billing/dunning_runner.hpp"
#include "plugins/billing/invoice_generator.hpp"
#include "plugins/billing/late_fee_applier.hpp"
#include "plugins/billing/ledger_verifier.hpp"
#include "plugins/billing/payment_recorder.hpp"
#include "plugins/billing/seed_generator.hpp"
#include "tests/integration/billing/billing_fixture.hpp"

using namespace artistsaid;
using namespace artistsaid::billing;
using artistsaid::test::BillingDatabase;

namespace {

Date d(const char* text) { return parse_date(text, "date"); }

void invoice_all(BillingDatabase& db, const char* as_of, const std::string& key) {
    InvoiceRunOptions o;
    o.as_of = d(as_of);
    o.idempotency_key = key;
    InvoiceGenerator().generate(db.conn, o);
}

bool ledger_ok(BillingDatabase& db) {
    auto report = LedgerVerifier().verify(db.conn);
    if (!report["ok"].get<bool>()) MESSAGE(report.dump(2));
    return report["ok"].get<bool>();
}

RecordedPayment pay(BillingDatabase& db, long long invoice, long long amount, const std::string& cur,
                    const std::string& key) {
    pqxx::work tx(db.conn);
    auto r = PaymentRecorder::record_succeeded(tx, invoice, amount, cur, "sandbox", "ch_" + key, key);
    tx.commit();
    return r;
}

}  // namespace

TEST_CASE("Billing.LateFees.FixedAndPercentOncePerInvoice") {
    BillingDatabase db;
    const auto svc = db.service();
    const auto usd = db.client("US", "OR", "USD");
    const auto jpy = db.client("JP", "", "JPY");
    db.subscription(usd, svc, "USD", "monthly", 1, "2025-03-01", 100000);
    db.subscription(jpy, svc, "JPY", "monthly", 1, "2025-03-01", 3000);
    invoice_all(db, "2025-03-01", "inv");
    auto policy = LateFeePolicy::from_json({{"kind", "percent"},
                                            {"after_days", 7},
                                            {"percent", "1.5"},
                                            {"minimum", {{"JPY", "500"}}}});
    // Not late enough yet.
    auto early = LateFeeApplier().apply(db.conn, d("2025-03-07"), policy, "fees1");
    CHECK(early["fees_applied"] == 0);
    auto r = LateFeeApplier().apply(db.conn, d("2025-03-08"), policy, "fees2");
    CHECK(r["fees_applied"] == 2);
    CHECK(r["totals"]["USD"] == 1500);  // 1.5% of 1000.00
    CHECK(r["totals"]["JPY"] == 500);   // 45 yen, raised to the minimum
    CHECK(db.text("SELECT subtotal || '/' || total FROM invoices WHERE client_id = " +
                  std::to_string(usd)) == "101500/101500");
    // Again (another day, another key): one late fee per invoice.
    auto again = LateFeeApplier().apply(db.conn, d("2025-03-20"), policy, "fees3");
    CHECK(again["fees_applied"] == 0);
    // The same execution replayed.
    CHECK(LateFeeApplier().apply(db.conn, d("2025-03-08"), policy, "fees2")["replayed"] == true);
    CHECK(db.scalar("SELECT count(*) FROM invoice_items WHERE kind = 'late_fee'") == 2);
    CHECK(ledger_ok(db));
}

TEST_CASE("Billing.Dunning.NoticesSuspensionTerminationAndUnsuspension") {
    BillingDatabase db;
    const auto svc = db.service();
    const auto late = db.client("US", "OR", "USD");
    const auto payer = db.client("US", "OR", "USD");
    const auto gone = db.client("US", "OR", "USD");
    const auto s_late = db.subscription(late, svc, "USD", "monthly", 1, "2025-04-01", 1000);
    const auto s_payer = db.subscription(payer, svc, "USD", "monthly", 1, "2025-04-01", 1000);
    const auto s_gone = db.subscription(gone, svc, "USD", "monthly", 1, "2025-02-01", 1000);
    invoice_all(db, "2025-02-01", "inv-feb");  // only `gone` is due
    invoice_all(db, "2025-04-01", "inv-apr");
    DunningPolicy policy = DunningPolicy::from_json(
        {{"notices", {{{"name", "before_due_3"}, {"days", -3}}, {{"name", "overdue_1"}, {"days", 1}},
                      {{"name", "overdue_2"}, {"days", 7}}}},
         {"suspend_after_days", 10},
         {"terminate_after_days", 40}});
    auto status = [&](long long sub) {
        return db.text("SELECT status FROM subscriptions WHERE id = " + std::to_string(sub));
    };

    auto day2 = DunningRunner().run(db.conn, d("2025-04-02"), policy, "dun1", "");
    // late and payer: overdue_1; gone (due 2025-02-01 and 2025-03-01..): its latest notice only
    CHECK(day2["notice_count"].get<long long>() >= 3);
    CHECK(db.scalar("SELECT count(*) FROM dunning_notices n JOIN invoices i ON i.id = n.invoice_id "
                    "WHERE i.client_id = " + std::to_string(late)) == 1);
    CHECK(day2["terminated"].get<long long>() == 1);  // gone: overdue since February (> 40 days)
    CHECK(day2["suspended"].get<long long>() == 0);
    CHECK(status(s_gone) == "terminated");
    CHECK(status(s_late) == "active");
    // The same day again: nothing new.
    auto again = DunningRunner().run(db.conn, d("2025-04-02"), policy, "dun2", "");
    CHECK(again["notice_count"] == 0);

    auto day12 = DunningRunner().run(db.conn, d("2025-04-12"), policy, "dun3", "");
    CHECK(day12["suspended"] == 2);
    CHECK(status(s_late) == "suspended");
    CHECK(status(s_payer) == "suspended");
    CHECK(db.scalar("SELECT count(*) FROM dunning_notices n JOIN invoices i ON i.id = n.invoice_id "
                    "WHERE n.notice = 'overdue_2' AND i.client_id IN (" + std::to_string(late) + ", " +
                    std::to_string(payer) + ")") == 2);

    // The payer pays: the next dunning run unsuspends; the late one stays suspended.
    const auto invoice = db.scalar("SELECT id FROM invoices WHERE client_id = " + std::to_string(payer));
    auto p = pay(db, invoice, 1000, "USD", "pay1");
    CHECK(p.invoice_paid);
    auto day13 = DunningRunner().run(db.conn, d("2025-04-13"), policy, "dun4", "");
    CHECK(day13["unsuspended"] == 1);
    CHECK(status(s_payer) == "active");
    CHECK(status(s_late) == "suspended");
    // An operator's own suspension is not lifted by dunning.
    db.exec("UPDATE subscriptions SET status = 'suspended', suspend_reason = 'abuse' WHERE id = " +
            std::to_string(s_payer));
    DunningRunner().run(db.conn, d("2025-04-14"), policy, "dun5", "");
    CHECK(status(s_payer) == "suspended");
    CHECK(ledger_ok(db));
    CHECK_THROWS_AS(DunningPolicy::from_json({{"suspend_after_days", 10}, {"terminate_after_days", 5}}),
                    InputError);
    CHECK_THROWS_AS(DunningPolicy::from_json({{"notices", {{{"name", "Bad Name"}, {"days", 1}}}}}),
                    InputError);
}

TEST_CASE("Billing.Payments.OverpaymentBecomesCreditAndIsCountedOnce") {
    BillingDatabase db;
    const auto svc = db.service();
    const auto c = db.client("US", "OR", "USD");
    db.subscription(c, svc, "USD", "monthly", 1, "2025-04-01", 1000);
    invoice_all(db, "2025-04-01", "inv");
    const auto invoice = db.scalar("SELECT id FROM invoices");
    auto partial = pay(db, invoice, 400, "USD", "p1");
    CHECK_FALSE(partial.invoice_paid);
    auto over = pay(db, invoice, 1000, "USD", "p2");
    CHECK(over.invoice_paid);
    CHECK(over.overpaid == 400);
    CHECK(db.scalar("SELECT balance FROM client_credit_balances WHERE client_id = " + std::to_string(c)) == 400);
    auto dup = pay(db, invoice, 1000, "USD", "p2");
    CHECK(dup.duplicate);
    CHECK(db.scalar("SELECT count(*) FROM payments") == 2);
    CHECK(ledger_ok(db));
    // The credit is used on the next invoice.
    db.subscription(c, svc, "USD", "monthly", 2, "2025-04-02", 1000);
    invoice_all(db, "2025-04-02", "inv2");
    CHECK(db.scalar("SELECT credit_applied FROM invoices ORDER BY id DESC LIMIT 1") == 400);
    CHECK(ledger_ok(db));
    {
        pqxx::work tx(db.conn);
        CHECK_THROWS_AS(PaymentRecorder::record_succeeded(tx, invoice, 10, "EUR", "sandbox", "", "p3"),
                        InputError);
    }
    // A payment posted twice to the ledger is reported.
    db.exec("INSERT INTO ledger_transactions (kind, reference, idempotency_key) VALUES "
            "('payment.succeeded', 'payment:" + std::to_string(over.payment_id) + "', 'dup'); "
            "INSERT INTO ledger_entries (transaction_id, account_id, amount, currency) "
            "SELECT currval(pg_get_serial_sequence('ledger_transactions', 'id')), id, "
            "CASE WHEN code = 'gateway_clearing' THEN 1000 ELSE -1000 END, 'USD' FROM ledger_accounts "
            "WHERE code IN ('gateway_clearing', 'receivable') ORDER BY code");
    auto report = LedgerVerifier().verify(db.conn);
    CHECK_FALSE(report["ok"].get<bool>());
    CHECK(report["checks"][4]["failures"] == 1);
}

TEST_CASE("Commissions.Distribute.SplitPendingClearedAndBalanced") {
    BillingDatabase db;
    SeedOptions seed;
    seed.clients = 50;
    seed.subscriptions = 0;
    seed.affiliates = 3;
    seed.marketplace_orders = 40;
    seed.as_of = d("2026-02-01");
    SeedGenerator().load(db.conn, seed);
    db.exec("UPDATE affiliates SET clearing_days = 30");
    db.exec("UPDATE clients SET affiliate_id = (SELECT min(id) FROM affiliates) WHERE id % 2 = 0");
    CommissionOptions o;
    o.as_of = d("2026-02-01");
    o.platform_ppm = 150000;
    o.idempotency_key = "com1";
    auto r = CommissionDistributor().distribute(db.conn, o);
    const long long orders = db.scalar("SELECT count(*) FROM marketplace_orders");
    CHECK(r["split"] == orders);
    CHECK(db.scalar("SELECT count(*) FROM commissions WHERE platform_amount + affiliate_amount + "
                    "provider_amount <> gross_amount") == 0);
    const long long pending = db.scalar("SELECT count(*) FROM commissions WHERE status = 'pending'");
    CHECK(pending > 0);
    CHECK(db.scalar("SELECT count(*) FROM commissions WHERE status = 'pending' AND affiliate_amount = 0") == 0);
    // Re-run: nothing split twice.
    o.idempotency_key = "com2";
    CHECK(CommissionDistributor().distribute(db.conn, o)["split"] == 0);
    // After the delay the affiliate commissions clear into the affiliate's own account.
    o.as_of = d("2026-03-05");
    o.idempotency_key = "com3";
    auto later = CommissionDistributor().distribute(db.conn, o);
    CHECK(later["cleared"] == pending);
    CHECK(db.scalar("SELECT count(*) FROM commissions WHERE status = 'pending'") == 0);
    CHECK(db.scalar("SELECT -sum(e.amount) FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id "
                    "WHERE a.kind = 'affiliate_payable' AND a.owner_id IS NOT NULL") ==
          db.scalar("SELECT sum(affiliate_amount) FROM commissions"));
    CHECK(db.scalar("SELECT coalesce(sum(e.amount), 0) FROM ledger_entries e JOIN ledger_accounts a ON "
                    "a.id = e.account_id WHERE a.code = 'affiliate_payable'") == 0);  // pool emptied
    CHECK(db.scalar("SELECT -sum(e.amount) FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id "
                    "WHERE a.kind = 'provider_payable'") == db.scalar("SELECT sum(provider_amount) FROM commissions"));
    CHECK(ledger_ok(db));
}
