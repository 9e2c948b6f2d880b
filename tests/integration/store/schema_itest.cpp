// The guarantees that migrations/0001_core.sql enforces inside PostgreSQL itself, tested
// against a real server: one invoice per subscription period, a ledger that balances per
// currency at commit and is append-only, webhook events and schedule slots that can only be
// recorded once, money CHECKs, and one default payment method per client.
#include <doctest/doctest.h>

#include <filesystem>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "tests/integration/store/migrated_database.hpp"

namespace {

using artistsaid::test::exec_tx;
using artistsaid::test::MigratedDatabase;
using artistsaid::test::query_int;

// A client (with its user), a service and an active monthly subscription, all in `currency`.
struct Sample {
    long long client_id = 0;
    long long service_id = 0;
    long long subscription_id = 0;
};

Sample insert_sample(pqxx::connection& conn, const std::string& currency = "EUR") {
    pqxx::work w(conn);
    const std::string cur = w.quote(currency);
    auto row = w.exec1(
        "WITH u AS (INSERT INTO users (email) VALUES (gen_random_uuid() || '@example.com') "
        "           RETURNING id),"
        " c AS (INSERT INTO clients (kind, user_id, name, country, currency)"
        "       SELECT 'user', id, 'Ada Artist', 'DE', " + cur + " FROM u RETURNING id),"
        " s AS (INSERT INTO services (code, name, kind)"
        "       VALUES ('portfolio-' || gen_random_uuid(), 'Portfolio', 'portfolio_hosting')"
        "       RETURNING id),"
        " sub AS (INSERT INTO subscriptions (client_id, service_id, currency, cycle,"
        "                                    billing_day, next_due_date, status)"
        "         SELECT c.id, s.id, " + cur + ", 'monthly', 1, DATE '2024-02-01', 'active'"
        "         FROM c, s RETURNING id, client_id, service_id)"
        " SELECT client_id, service_id, id FROM sub");
    w.commit();
    return Sample{row[0].as<long long>(), row[1].as<long long>(), row[2].as<long long>()};
}

// An unpaid EUR 10.00 + 1.90 tax invoice for one month of the sample's subscription.
std::string subscription_invoice_sql(const Sample& s, const std::string& number,
                                     const std::string& period_start) {
    return "INSERT INTO invoices (client_id, number, currency, status, issue_date, due_date,"
           " subtotal, tax, total, subscription_id, period_start, period_end) VALUES (" +
           std::to_string(s.client_id) + ", '" + number + "', 'EUR', 'unpaid', DATE '" +
           period_start + "', DATE '" + period_start + "' + 7, 1000, 190, 1190, " +
           std::to_string(s.subscription_id) +
           ", DATE '" + period_start + "', (DATE '" + period_start + "' + interval '1 month')::date)";
}

long long begin_ledger_transaction(pqxx::work& w, const std::string& idempotency_key) {
    return w
        .exec1("INSERT INTO ledger_transactions (kind, idempotency_key) VALUES ('test.posting', " +
               w.quote(idempotency_key) + ") RETURNING id")[0]
        .as<long long>();
}

void add_entry(pqxx::work& w, long long transaction_id, const std::string& account_code,
               long long amount, const std::string& currency) {
    w.exec0("INSERT INTO ledger_entries (transaction_id, account_id, amount, currency) VALUES (" +
            std::to_string(transaction_id) +
            ", (SELECT id FROM ledger_accounts WHERE code = " + w.quote(account_code) + "), " +
            std::to_string(amount) + ", " + w.quote(currency) + ")");
}

// Runs `sql` in its own transaction expecting a CHECK violation, and returns its message
// (which names the constraint); returns "" if the statement was accepted.
std::string check_violation_of(pqxx::connection& conn, const std::string& sql) {
    try {
        exec_tx(conn, sql);
    } catch (const pqxx::check_violation& e) {
        return e.what();
    }
    return "";
}

// Commits `w`, expecting the deferred balance check to refuse; returns the error message.
std::string commit_expecting_check_violation(pqxx::work& w) {
    try {
        w.commit();
    } catch (const pqxx::check_violation& e) {
        return e.what();
    }
    FAIL("the commit succeeded, but the ledger transaction is unbalanced");
    return "";
}

}  // namespace

TEST_CASE("Schema.Invoices.DuplicatePeriodIsRejected") {
    MigratedDatabase db;
    Sample s = insert_sample(db.conn);

    exec_tx(db.conn, subscription_invoice_sql(s, "INV-0001", "2024-01-01"));
    // A billing step re-run after a crash, or a second billing run, can't invoice it again.
    CHECK_THROWS_AS(exec_tx(db.conn, subscription_invoice_sql(s, "INV-0002", "2024-01-01")),
                    pqxx::unique_violation);
    // The next period is a different invoice.
    CHECK_NOTHROW(exec_tx(db.conn, subscription_invoice_sql(s, "INV-0003", "2024-02-01")));
    CHECK(query_int(db.conn, "SELECT count(*) FROM invoices") == 2);
}

TEST_CASE("Schema.InvoiceItems.DuplicateRecurringPeriodIsRejected") {
    // Invoices bundling several subscriptions have no subscription_id of their own; their
    // recurring items carry (subscription_id, period_start), unique across all invoices.
    MigratedDatabase db;
    Sample s = insert_sample(db.conn);
    auto bundle_with_item = [&](const std::string& number) {
        return "WITH i AS (INSERT INTO invoices (client_id, number, currency, status,"
               " issue_date, due_date) VALUES (" + std::to_string(s.client_id) + ", '" + number +
               "', 'EUR', 'draft', DATE '2024-05-01', DATE '2024-05-08') RETURNING id)"
               " INSERT INTO invoice_items (invoice_id, kind, amount, subscription_id,"
               " period_start, period_end) SELECT id, 'recurring', 1000, " +
               std::to_string(s.subscription_id) + ", DATE '2024-05-01', DATE '2024-06-01' FROM i";
    };
    exec_tx(db.conn, bundle_with_item("INV-B1"));
    CHECK_THROWS_AS(exec_tx(db.conn, bundle_with_item("INV-B2")), pqxx::unique_violation);
    // A recurring item must say which subscription and period it charges.
    CHECK(check_violation_of(db.conn, "INSERT INTO invoice_items (invoice_id, kind, amount) "
                                      "SELECT id, 'recurring', 1000 FROM invoices LIMIT 1")
              .find("invoice_items_recurring_has_period") != std::string::npos);
}

TEST_CASE("Schema.Ledger.BalancedTransactionCommits") {
    MigratedDatabase db;
    {
        pqxx::work w(db.conn);
        long long txn = begin_ledger_transaction(w, "invoice:1:issued");
        // One entry at a time: the balance is only checked at commit.
        add_entry(w, txn, "receivable", 1190, "EUR");
        add_entry(w, txn, "revenue", -1000, "EUR");
        add_entry(w, txn, "tax_payable", -190, "EUR");
        CHECK_NOTHROW(w.commit());
    }
    CHECK(query_int(db.conn, "SELECT count(*) FROM ledger_entries") == 3);
    CHECK(query_int(db.conn, "SELECT sum(amount) FROM ledger_entries") == 0);
}

TEST_CASE("Schema.Ledger.UnbalancedTransactionIsRejectedAtCommit") {
    MigratedDatabase db;
    {
        pqxx::work w(db.conn);
        long long txn = begin_ledger_transaction(w, "payment:1");
        add_entry(w, txn, "gateway_clearing", 1190, "EUR");
        add_entry(w, txn, "receivable", -1189, "EUR");  // one cent missing
        std::string error = commit_expecting_check_violation(w);
        CHECK(error.find("is unbalanced in EUR: sum 1") != std::string::npos);
    }
    // Nothing of the refused transaction was stored.
    CHECK(query_int(db.conn, "SELECT count(*) FROM ledger_transactions") == 0);
    CHECK(query_int(db.conn, "SELECT count(*) FROM ledger_entries") == 0);
}

TEST_CASE("Schema.Ledger.ImbalanceIsCheckedPerCurrency") {
    MigratedDatabase db;
    pqxx::work w(db.conn);
    long long txn = begin_ledger_transaction(w, "payment:2");
    add_entry(w, txn, "gateway_clearing", 100, "USD");
    add_entry(w, txn, "receivable", -100, "EUR");  // sums to zero, but not per currency
    std::string error = commit_expecting_check_violation(w);
    CHECK(error.find("unbalanced") != std::string::npos);
}

TEST_CASE("Schema.Ledger.IsAppendOnly") {
    MigratedDatabase db;
    long long txn = 0;
    {
        pqxx::work w(db.conn);
        txn = begin_ledger_transaction(w, "credit:1");
        add_entry(w, txn, "cash", 500, "JPY");
        add_entry(w, txn, "client_credit", -500, "JPY");
        w.commit();
    }
    CHECK_THROWS_AS(exec_tx(db.conn, "UPDATE ledger_entries SET amount = -amount"),
                    pqxx::integrity_constraint_violation);
    CHECK_THROWS_AS(exec_tx(db.conn, "DELETE FROM ledger_entries"),
                    pqxx::integrity_constraint_violation);
    // A committed transaction is closed: even a balanced pair can't be added to it later.
    {
        pqxx::work w(db.conn);
        CHECK_THROWS_AS(add_entry(w, txn, "cash", 1, "JPY"), pqxx::integrity_constraint_violation);
    }
    // A ledger transaction without entries is refused at commit.
    {
        pqxx::work w(db.conn);
        begin_ledger_transaction(w, "empty");
        CHECK(commit_expecting_check_violation(w).find("has no entries") != std::string::npos);
    }
    CHECK(query_int(db.conn, "SELECT sum(amount) FROM ledger_entries WHERE amount > 0") == 500);
}

// 0015: the checks run per statement and per ledger transaction; these are the cases a
// per-statement / per-transaction check could get wrong.
TEST_CASE("Schema.Ledger.SetBasedPostingsAreCheckedPerTransaction") {
    MigratedDatabase db;
    const std::string accounts =
        "(SELECT id FROM ledger_accounts WHERE code = 'receivable') AS r, "
        "(SELECT id FROM ledger_accounts WHERE code = 'revenue') AS v";  // one row: ids r, v
    // Two ledger transactions and their entries in one statement each: one unbalanced
    // transaction among balanced ones refuses the commit, naming it.
    long long bad = 0;
    {
        pqxx::work w(db.conn);
        long long a = begin_ledger_transaction(w, "set:a");
        bad = begin_ledger_transaction(w, "set:b");
        w.exec0("INSERT INTO ledger_entries (transaction_id, account_id, amount, currency) "
                "SELECT x.t, x.acc, x.amount, 'USD' FROM (SELECT " + accounts + ") ids "
                "CROSS JOIN LATERAL (VALUES (" + std::to_string(a) + ", ids.r, 500), (" +
                std::to_string(a) + ", ids.v, -500), (" + std::to_string(bad) + ", ids.r, 300), (" +
                std::to_string(bad) + ", ids.v, -299)) AS x(t, acc, amount)");
        std::string error = commit_expecting_check_violation(w);
        CHECK(error.find("ledger transaction " + std::to_string(bad) + " is unbalanced in USD: sum 1") !=
              std::string::npos);
    }
    CHECK(query_int(db.conn, "SELECT count(*) FROM ledger_entries") == 0);

    // A writable CTE creating the transaction and its entries in one statement commits.
    exec_tx(db.conn,
            "WITH t AS (INSERT INTO ledger_transactions (kind, idempotency_key) "
            "VALUES ('test.posting', 'set:cte') RETURNING id) "
            "INSERT INTO ledger_entries (transaction_id, account_id, amount, currency) "
            "SELECT t.id, x.acc, x.amount, 'JPY' FROM t, (SELECT " + accounts + ") ids "
            "CROSS JOIN LATERAL (VALUES (ids.r, 700), (ids.v, -700)) AS x(acc, amount)");
    CHECK(query_int(db.conn, "SELECT count(*) FROM ledger_entries") == 2);

    // One statement mixing an open and a closed transaction is refused as a whole.
    const long long closed = query_int(db.conn, "SELECT id FROM ledger_transactions");
    {
        pqxx::work w(db.conn);
        long long open = begin_ledger_transaction(w, "set:c");
        CHECK_THROWS_AS(
            w.exec0("INSERT INTO ledger_entries (transaction_id, account_id, amount, currency) "
                    "SELECT x.t, ids.r, x.amount, 'JPY' FROM (SELECT " + accounts + ") ids "
                    "CROSS JOIN LATERAL (VALUES (" + std::to_string(open) + ", 5), (" +
                    std::to_string(closed) + ", 5)) AS x(t, amount)"),
            pqxx::integrity_constraint_violation);
    }
    CHECK(query_int(db.conn, "SELECT count(*) FROM ledger_entries") == 2);
}

TEST_CASE("Schema.Ledger.EntriesAfterAnEarlyCheckAreCheckedAtOnce") {
    MigratedDatabase db;
    // SET CONSTRAINTS ... IMMEDIATE runs the deferred per-transaction check before COMMIT;
    // an entry added afterwards must not escape the balance check.
    {
        pqxx::work w(db.conn);
        long long txn = begin_ledger_transaction(w, "early:1");
        add_entry(w, txn, "cash", 100, "EUR");
        add_entry(w, txn, "client_credit", -100, "EUR");
        w.exec0("SET CONSTRAINTS ALL IMMEDIATE");  // balanced: passes
        CHECK_THROWS_AS(add_entry(w, txn, "cash", 1, "EUR"), pqxx::check_violation);
    }
    CHECK(query_int(db.conn, "SELECT count(*) FROM ledger_transactions") == 0);
    // A balanced addition after the early check is accepted and commits.
    {
        pqxx::work w(db.conn);
        long long txn = begin_ledger_transaction(w, "early:2");
        add_entry(w, txn, "cash", 100, "EUR");
        add_entry(w, txn, "client_credit", -100, "EUR");
        w.exec0("SET CONSTRAINTS ALL IMMEDIATE");
        w.exec0("INSERT INTO ledger_entries (transaction_id, account_id, amount, currency) "
                "SELECT " + std::to_string(txn) + ", a.id, x.amount, 'EUR' FROM (VALUES "
                "('cash', 5), ('client_credit', -5)) AS x(code, amount) "
                "JOIN ledger_accounts a ON a.code = x.code");
        w.exec0("SET CONSTRAINTS ALL DEFERRED");
        CHECK_NOTHROW(w.commit());
    }
    CHECK(query_int(db.conn, "SELECT sum(amount) FROM ledger_entries WHERE amount > 0") == 105);
    // A savepoint rolled back after an early check: the check is owed again at commit.
    {
        pqxx::work w(db.conn);
        long long txn = begin_ledger_transaction(w, "early:3");
        w.exec0("SAVEPOINT s");
        add_entry(w, txn, "cash", 100, "EUR");
        add_entry(w, txn, "client_credit", -100, "EUR");
        w.exec0("SET CONSTRAINTS ALL IMMEDIATE");
        w.exec0("ROLLBACK TO SAVEPOINT s");
        w.exec0("SET CONSTRAINTS ALL DEFERRED");
        add_entry(w, txn, "cash", 7, "EUR");
        add_entry(w, txn, "client_credit", -6, "EUR");
        CHECK(commit_expecting_check_violation(w).find("is unbalanced in EUR: sum 1") !=
              std::string::npos);
    }
    CHECK(query_int(db.conn, "SELECT count(*) FROM ledger_transactions") == 1);
}

TEST_CASE("Schema.UpdatedAt.SetByTheTriggerUnlessTheUpdateSetsIt") {
    // 0015: on subscriptions, invoices and payments the trigger runs only when the UPDATE
    // left updated_at alone (the billing run sets it in its statements).
    MigratedDatabase db;
    Sample s = insert_sample(db.conn);
    const std::string sub = std::to_string(s.subscription_id);
    const std::string age = "SELECT extract(epoch FROM now() - updated_at)::bigint FROM subscriptions WHERE id = " + sub;
    exec_tx(db.conn, "UPDATE subscriptions SET updated_at = '2001-01-01T00:00:00Z' WHERE id = " + sub);
    CHECK(query_int(db.conn, age) > 86400LL * 365 * 20);  // the statement's value is kept
    exec_tx(db.conn, "UPDATE subscriptions SET quantity = 2 WHERE id = " + sub);
    CHECK(query_int(db.conn, age) < 3600);  // the trigger set now()
    exec_tx(db.conn, subscription_invoice_sql(s, "INV-U1", "2024-01-01"));
    exec_tx(db.conn, "UPDATE invoices SET updated_at = '2001-01-01T00:00:00Z'");
    exec_tx(db.conn, "UPDATE invoices SET due_date = due_date + 1");
    CHECK(query_int(db.conn, "SELECT extract(epoch FROM now() - updated_at)::bigint FROM invoices") < 3600);
}

TEST_CASE("Schema.WebhookEvents.DuplicateIsRejected") {
    MigratedDatabase db;
    auto event = [](const std::string& provider, const std::string& event_id) {
        return "INSERT INTO webhook_events (id, provider, provider_event_id, type, payload) "
               "VALUES (gen_random_uuid(), '" + provider + "', '" + event_id +
               "', 'invoice.payment_failed', '{}')";
    };
    exec_tx(db.conn, event("stripe", "evt_1"));
    CHECK_THROWS_AS(exec_tx(db.conn, event("stripe", "evt_1")), pqxx::unique_violation);
    CHECK_NOTHROW(exec_tx(db.conn, event("paypal", "evt_1")));  // ids are per provider
    CHECK(query_int(db.conn, "SELECT count(*) FROM webhook_events") == 2);
}

TEST_CASE("Schema.ScheduleSlots.DuplicateIsRejected") {
    MigratedDatabase db;
    exec_tx(db.conn, "INSERT INTO schedule_slots (workflow_name, slot_at) "
                     "VALUES ('billing-cycle', '2024-01-01 02:00:00+01')");
    // The same instant written in another time zone is the same slot.
    CHECK_THROWS_AS(exec_tx(db.conn, "INSERT INTO schedule_slots (workflow_name, slot_at) "
                                     "VALUES ('billing-cycle', '2024-01-01 01:00:00+00')"),
                    pqxx::unique_violation);
    // What a scheduler that lost the race sees: nothing claimed.
    {
        pqxx::work w(db.conn);
        auto claimed = w.exec("INSERT INTO schedule_slots (workflow_name, slot_at) "
                              "VALUES ('billing-cycle', '2024-01-01 01:00:00+00') "
                              "ON CONFLICT DO NOTHING RETURNING id");
        CHECK(claimed.empty());
        w.commit();
    }
    CHECK_NOTHROW(exec_tx(db.conn, "INSERT INTO schedule_slots (workflow_name, slot_at) "
                                   "VALUES ('dunning', '2024-01-01 01:00:00+00')"));
}

TEST_CASE("Schema.Money.ChecksRejectNegativeAmountsAndBadCurrencies") {
    MigratedDatabase db;
    Sample s = insert_sample(db.conn);
    const std::string client = std::to_string(s.client_id);
    // (currency, status, subtotal, tax, total, amount_paid) follow.
    const std::string invoice =
        "INSERT INTO invoices (client_id, number, issue_date, due_date, currency, status, "
        "subtotal, tax, total, amount_paid) VALUES (" + client +
        ", 'INV-X', DATE '2024-01-01', DATE '2024-01-10', ";

    struct Rejected {
        const char* what;
        std::string sql;
        const char* constraint;  // the one that must refuse it
    };
    const std::vector<Rejected> rejected = {
        {"negative subtotal", invoice + "'EUR', 'unpaid', -100, 100, 0, 0)",
         "invoices_subtotal_check"},
        {"negative tax", invoice + "'EUR', 'unpaid', 119, -19, 100, 0)", "invoices_tax_check"},
        {"negative amount paid", invoice + "'EUR', 'unpaid', 100, 0, 100, -1)",
         "invoices_amount_paid_check"},
        {"total is not subtotal + tax", invoice + "'EUR', 'unpaid', 100, 19, 100, 0)",
         "invoices_total_is_subtotal_plus_tax"},
        {"lower-case currency", invoice + "'eur', 'unpaid', 0, 0, 0, 0)", "currency_code_iso4217"},
        {"two-letter currency", invoice + "'EU', 'unpaid', 0, 0, 0, 0)", "currency_code_iso4217"},
        {"unknown invoice status", invoice + "'EUR', 'overdue', 0, 0, 0, 0)",
         "invoices_status_check"},
        {"paid without being paid", invoice + "'EUR', 'paid', 100, 0, 100, 99)",
         "invoices_paid_is_settled"},
        {"negative price",
         "INSERT INTO service_prices (service_id, currency, cycle, amount) VALUES (" +
             std::to_string(s.service_id) + ", 'EUR', 'monthly', -1)",
         "service_prices_amount_check"},
        {"negative usage",
         "INSERT INTO usage_records (subscription_id, metric, quantity, idempotency_key) "
         "VALUES (" + std::to_string(s.subscription_id) + ", 'storage_gb', -5, 'u1')",
         "usage_records_quantity_check"},
        {"zero payment",
         "INSERT INTO payments (invoice_id, gateway, idempotency_key, amount, currency, status) "
         "SELECT id, 'stripe', 'p1', 0, 'EUR', 'succeeded' FROM invoices",
         "payments_amount_check"},
        {"commission split that invents a cent",
         "INSERT INTO commissions (source_kind, source_reference, provider_client_id, currency, "
         "gross_amount, platform_amount, provider_amount, clears_at) VALUES ('sale', 's1', " +
             client + ", 'EUR', 1000, 200, 801, now())",
         "commissions_split_is_exact"},
    };
    // One valid invoice, so that the payment above has an invoice to point at.
    exec_tx(db.conn, invoice + "'EUR', 'unpaid', 1000, 190, 1190, 0)");
    for (const auto& r : rejected) {
        CAPTURE(r.what);
        CHECK(check_violation_of(db.conn, r.sql).find(r.constraint) != std::string::npos);
    }
    CHECK(query_int(db.conn, "SELECT count(*) FROM invoices") == 1);
}

TEST_CASE("Schema.PaymentMethods.AtMostOneDefaultPerClient") {
    MigratedDatabase db;
    Sample a = insert_sample(db.conn);
    Sample b = insert_sample(db.conn);
    auto method = [](const Sample& s, const std::string& ref, bool is_default) {
        return "INSERT INTO payment_methods (client_id, gateway, gateway_reference, brand, "
               "last4, exp_month, exp_year, is_default) VALUES (" +
               std::to_string(s.client_id) + ", 'stripe', '" + ref + "', 'visa', '4242', 12, "
               "2030, " + (is_default ? "true" : "false") + ")";
    };
    exec_tx(db.conn, method(a, "pm_a1", true));
    CHECK_NOTHROW(exec_tx(db.conn, method(a, "pm_a2", false)));
    CHECK_THROWS_AS(exec_tx(db.conn, method(a, "pm_a3", true)), pqxx::unique_violation);
    CHECK_NOTHROW(exec_tx(db.conn, method(b, "pm_b1", true)));  // another client's default
    // Moving the default: clear the old one first, in the same transaction.
    CHECK_NOTHROW(exec_tx(db.conn,
                          "UPDATE payment_methods SET is_default = false WHERE gateway_reference "
                          "= 'pm_a1'; UPDATE payment_methods SET is_default = true WHERE "
                          "gateway_reference = 'pm_a2'"));
    CHECK(query_int(db.conn, "SELECT count(*) FROM payment_methods WHERE is_default") == 2);
}

TEST_CASE("Schema.Credits.BalanceCannotGoNegative") {
    MigratedDatabase db;
    Sample s = insert_sample(db.conn);
    auto credit = [&](long long amount, const std::string& currency, const char* kind) {
        return "INSERT INTO credits (client_id, currency, amount, kind) VALUES (" +
               std::to_string(s.client_id) + ", '" + currency + "', " + std::to_string(amount) +
               ", '" + kind + "')";
    };
    exec_tx(db.conn, credit(500, "EUR", "deposit"));
    CHECK_NOTHROW(exec_tx(db.conn, credit(-300, "EUR", "applied")));
    // Overdrawing, and using credit in a currency the client has none of, are refused.
    for (const auto& sql : {credit(-201, "EUR", "applied"), credit(-1, "USD", "applied")}) {
        CAPTURE(sql);
        CHECK(check_violation_of(db.conn, sql).find("client_credit_balance_non_negative") !=
              std::string::npos);
    }
    CHECK(query_int(db.conn, "SELECT balance FROM client_credit_balances WHERE currency = 'EUR'") ==
          200);
}
