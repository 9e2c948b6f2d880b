// The foreign keys that migrations/0021_set_based_foreign_keys.sql checks with statement
// triggers instead of PostgreSQL's per-row RI triggers, tested against a real server: a
// child without its parent is refused (single and multi-row statements, UPDATEs), parent
// DELETEs restrict / cascade / set NULL as the declarative keys did, key UPDATEs and
// TRUNCATE are refused, and concurrent parent DELETEs and child INSERTs on two connections,
// in each order, never leave an orphan (the waits are observed in pg_stat_activity).
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <pqxx/pqxx>
#include <string>
#include <thread>

#include "tests/integration/store/migrated_database.hpp"

namespace {

using namespace std::chrono_literals;

using artistsaid::test::exec_tx;
using artistsaid::test::MigratedDatabase;
using artistsaid::test::query_int;

// Runs `sql` in its own transaction expecting a foreign key violation (23503); returns the
// error's message and detail ("" and a test failure if the statement was accepted).
std::string fk_violation_of(pqxx::connection& conn, const std::string& sql) {
    try {
        exec_tx(conn, sql);
    } catch (const pqxx::foreign_key_violation& e) {
        return e.what();
    }
    FAIL("accepted, but it should violate a foreign key: " << sql);
    return "";
}

// Child rows whose parent is missing, over every key 0021 replaced: must always be 0.
long long orphans(pqxx::connection& conn) {
    return query_int(conn, R"SQL(
SELECT (SELECT count(*) FROM invoice_items c WHERE NOT EXISTS
            (SELECT 1 FROM invoices p WHERE p.id = c.invoice_id))
     + (SELECT count(*) FROM invoice_items c WHERE c.subscription_id IS NOT NULL AND NOT EXISTS
            (SELECT 1 FROM subscriptions p WHERE p.id = c.subscription_id))
     + (SELECT count(*) FROM invoice_items c WHERE c.subscription_addon_id IS NOT NULL AND
            NOT EXISTS (SELECT 1 FROM subscription_addons p WHERE p.id = c.subscription_addon_id))
     + (SELECT count(*) FROM invoice_items c WHERE c.tax_rate_id IS NOT NULL AND NOT EXISTS
            (SELECT 1 FROM tax_rates p WHERE p.id = c.tax_rate_id))
     + (SELECT count(*) FROM invoices c WHERE NOT EXISTS
            (SELECT 1 FROM clients p WHERE p.id = c.client_id))
     + (SELECT count(*) FROM invoices c WHERE c.billing_run_id IS NOT NULL AND NOT EXISTS
            (SELECT 1 FROM billing_runs p WHERE p.id = c.billing_run_id))
     + (SELECT count(*) FROM invoices c WHERE c.subscription_id IS NOT NULL AND NOT EXISTS
            (SELECT 1 FROM subscriptions p WHERE p.id = c.subscription_id))
     + (SELECT count(*) FROM usage_records c WHERE c.invoice_item_id IS NOT NULL AND NOT EXISTS
            (SELECT 1 FROM invoice_items p WHERE p.id = c.invoice_item_id))
     + (SELECT count(*) FROM collection_items c WHERE NOT EXISTS
            (SELECT 1 FROM collections p WHERE p.id = c.collection_id))
)SQL");
}

// One of everything the replaced keys connect: a client with a monthly subscription and an
// add-on, a tax rate, a billing run, an invoice for the subscription's period with a
// recurring, an add-on and a tax item, a usage record billed in the add-on item, and a
// stored collection with two items. A second tax rate and a second client are unreferenced.
struct World {
    long long client = 0, other_client = 0, subscription = 0, subscription_addon = 0;
    long long tax_rate = 0, free_tax_rate = 0, billing_run = 0, invoice = 0;
    long long recurring_item = 0, addon_item = 0, usage_record = 0;
    std::string collection;

    explicit World(pqxx::connection& conn) {
        pqxx::work w(conn);
        auto r = w.exec1(R"SQL(
WITH u AS (INSERT INTO users (email) VALUES ('fk-a@example.com'), ('fk-b@example.com')
           RETURNING id, email),
 c AS (INSERT INTO clients (kind, user_id, name, country, currency)
       SELECT 'user', id, email, 'DE', 'EUR' FROM u RETURNING id, name),
 s AS (INSERT INTO services (code, name, kind)
       VALUES ('fk-portfolio', 'Portfolio', 'portfolio_hosting') RETURNING id),
 sub AS (INSERT INTO subscriptions (client_id, service_id, currency, cycle, billing_day,
                                    next_due_date, status)
         SELECT c.id, s.id, 'EUR', 'monthly', 1, DATE '2024-02-01', 'active'
           FROM c, s WHERE c.name = 'fk-a@example.com' RETURNING id, client_id, service_id),
 a AS (INSERT INTO service_addons (service_id, code, name)
       SELECT id, 'fk-storage', 'Storage' FROM s RETURNING id),
 sa AS (INSERT INTO subscription_addons (subscription_id, addon_id)
        SELECT sub.id, a.id FROM sub, a RETURNING id),
 t AS (INSERT INTO tax_rates (country, name, rate_ppm)
       VALUES ('DE', 'VAT', 190000), ('FR', 'Unused', 70000) RETURNING id, name),
 br AS (INSERT INTO billing_runs (kind, idempotency_key, as_of)
        VALUES ('generate_invoices', 'fk-run', DATE '2024-01-01') RETURNING id)
SELECT (SELECT client_id FROM sub), (SELECT id FROM c WHERE name = 'fk-b@example.com'),
       (SELECT id FROM sub), (SELECT id FROM sa),
       (SELECT id FROM t WHERE name = 'VAT'), (SELECT id FROM t WHERE name = 'Unused'),
       (SELECT id FROM br)
)SQL");
        client = r[0].as<long long>();
        other_client = r[1].as<long long>();
        subscription = r[2].as<long long>();
        subscription_addon = r[3].as<long long>();
        tax_rate = r[4].as<long long>();
        free_tax_rate = r[5].as<long long>();
        billing_run = r[6].as<long long>();
        invoice = w.exec1(
                       "INSERT INTO invoices (client_id, number, currency, status, issue_date,"
                       " due_date, subtotal, tax, total, subscription_id, period_start,"
                       " period_end, billing_run_id) VALUES (" +
                       std::to_string(client) +
                       ", 'INV-FK1', 'EUR', 'unpaid', DATE '2024-01-01', DATE '2024-01-08',"
                       " 1200, 228, 1428, " + std::to_string(subscription) +
                       ", DATE '2024-01-01', DATE '2024-02-01', " + std::to_string(billing_run) +
                       ") RETURNING id")[0]
                      .as<long long>();
        auto items = w.exec(
            "WITH i AS (INSERT INTO invoice_items (invoice_id, kind, amount, subscription_id,"
            " subscription_addon_id, tax_rate_id, period_start, period_end, sort_order) VALUES"
            " (" + std::to_string(invoice) + ", 'recurring', 1000, " +
            std::to_string(subscription) + ", NULL, NULL, DATE '2024-01-01', DATE '2024-02-01', 0),"
            " (" + std::to_string(invoice) + ", 'usage', 200, " + std::to_string(subscription) +
            ", " + std::to_string(subscription_addon) +
            ", NULL, DATE '2023-12-01', DATE '2024-01-01', 1),"
            " (" + std::to_string(invoice) + ", 'tax', 228, NULL, NULL, " +
            std::to_string(tax_rate) + ", NULL, NULL, 10)"
            " RETURNING id, sort_order) SELECT id FROM i ORDER BY sort_order");
        recurring_item = items[0][0].as<long long>();
        addon_item = items[1][0].as<long long>();
        usage_record = w.exec1("INSERT INTO usage_records (subscription_id, metric, quantity,"
                               " idempotency_key, invoice_item_id) VALUES (" +
                               std::to_string(subscription) + ", 'storage_gb', 3, 'fk-usage', " +
                               std::to_string(addon_item) + ") RETURNING id")[0]
                           .as<long long>();
        collection = w.exec1("INSERT INTO collections (id, item_count) VALUES"
                             " (gen_random_uuid(), 2) RETURNING id::text")[0]
                         .as<std::string>();
        w.exec0("INSERT INTO collection_items (collection_id, idx, item) VALUES ('" + collection +
                "', 0, '1'), ('" + collection + "', 1, '2')");
        w.commit();
    }

    // A tax item on the invoice charged at `rate`.
    std::string tax_item_sql(long long rate) const {
        return "INSERT INTO invoice_items (invoice_id, kind, amount, tax_rate_id, sort_order)"
               " VALUES (" + std::to_string(invoice) + ", 'tax', 70, " + std::to_string(rate) +
               ", 11)";
    }
};

// A statement run on its own connection in a thread: its backend pid is known before it
// starts (to watch it wait), and its outcome is "ok" or the SQLSTATE it failed with.
class Background {
public:
    Background(const std::string& url, std::string sql)
        : conn_(url), pid_(conn_.backendpid()) {
        outcome_ = std::async(std::launch::async, [this, sql = std::move(sql)]() -> std::string {
            try {
                exec_tx(conn_, sql);
                return "ok";
            } catch (const pqxx::sql_error& e) {
                return e.sqlstate();
            }
        });
    }
    Background(const Background&) = delete;
    Background& operator=(const Background&) = delete;
    // A statement still blocked (a failed check left its blocker open) is cancelled, so the
    // destructor never waits on a lock held by the same test.
    ~Background() {
        if (!outcome_.valid()) return;
        if (outcome_.wait_for(0s) != std::future_status::ready) conn_.cancel_query();
        outcome_.wait();
    }

    int pid() const noexcept { return pid_; }

    std::string outcome() {
        REQUIRE(outcome_.wait_for(60s) == std::future_status::ready);
        return outcome_.get();
    }

private:
    pqxx::connection conn_;
    int pid_;
    std::future<std::string> outcome_;
};

// Waits (≤ 30 s) until backend `pid` is blocked on a heavyweight lock, as pg_stat_activity
// and an ungranted pg_locks row show; fails the test otherwise.
void wait_until_blocked(pqxx::connection& observer, int pid) {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
        if (query_int(observer,
                      "SELECT count(*) FROM pg_stat_activity a WHERE a.pid = " +
                          std::to_string(pid) +
                          " AND a.wait_event_type = 'Lock' AND EXISTS (SELECT 1 FROM pg_locks l"
                          " WHERE l.pid = a.pid AND NOT l.granted)") == 1)
            return;
        std::this_thread::sleep_for(5ms);
    }
    FAIL("backend " << pid << " never waited for a lock");
}

}  // namespace

TEST_CASE("Schema.ForeignKeys.ChildWithoutParentIsRefusedAndChangesNothing") {
    MigratedDatabase db;
    World w(db.conn);
    const std::string inv = std::to_string(w.invoice);
    const long long items = query_int(db.conn, "SELECT count(*) FROM invoice_items");
    const long long invoices = query_int(db.conn, "SELECT count(*) FROM invoices");

    SUBCASE("one row") {
        const std::string e = fk_violation_of(
            db.conn, "INSERT INTO invoice_items (invoice_id, kind, amount) VALUES (999999, 'manual', 5)");
        CHECK(e.find("invoice_items_invoice_id_fkey") != std::string::npos);
        CHECK(e.find("Key (invoice_id)=(999999) is not present in table \"invoices\"") !=
              std::string::npos);
    }
    SUBCASE("one bad row among several, for each key of invoice_items") {
        const std::string good = "(" + inv + ", 'manual', 5, NULL, NULL, NULL)";
        const std::pair<const char*, std::string> cases[] = {
            {"invoice_items_invoice_id_fkey", "(424242, 'manual', 5, NULL, NULL, NULL)"},
            {"invoice_items_subscription_id_fkey", "(" + inv + ", 'manual', 5, 424242, NULL, NULL)"},
            {"invoice_items_subscription_addon_id_fkey",
             "(" + inv + ", 'manual', 5, NULL, 424242, NULL)"},
            {"invoice_items_tax_rate_id_fkey", "(" + inv + ", 'tax', 5, NULL, NULL, 424242)"}};
        for (const auto& [constraint, bad] : cases) {
            CAPTURE(constraint);
            const std::string e = fk_violation_of(
                db.conn, "INSERT INTO invoice_items (invoice_id, kind, amount, subscription_id,"
                         " subscription_addon_id, tax_rate_id) VALUES " +
                             good + ", " + good + ", " + bad + ", " + good);
            CHECK(e.find(constraint) != std::string::npos);
            CHECK(e.find("=(424242)") != std::string::npos);
        }
    }
    SUBCASE("invoices: client, billing run, subscription") {
        const std::string cols = "INSERT INTO invoices (client_id, currency, issue_date, due_date,"
                                 " billing_run_id, subscription_id, period_start, period_end) ";
        const std::string client = std::to_string(w.client);
        const std::string run = std::to_string(w.billing_run);
        CHECK(fk_violation_of(db.conn, cols + "VALUES (525252, 'EUR', DATE '2024-03-01',"
                                              " DATE '2024-03-08', NULL, NULL, NULL, NULL)")
                  .find("invoices_client_id_fkey") != std::string::npos);
        CHECK(fk_violation_of(db.conn, cols + "VALUES (" + client + ", 'EUR', DATE '2024-03-01',"
                                              " DATE '2024-03-08', 525252, NULL, NULL, NULL)")
                  .find("invoices_billing_run_id_fkey") != std::string::npos);
        CHECK(fk_violation_of(db.conn, cols + "VALUES (" + client + ", 'EUR', DATE '2024-03-01',"
                                              " DATE '2024-03-08', " + run + ", 525252,"
                                              " DATE '2024-03-01', DATE '2024-04-01')")
                  .find("invoices_subscription_id_fkey") != std::string::npos);
    }
    SUBCASE("UPDATEs that point at a missing parent") {
        CHECK(fk_violation_of(db.conn, "UPDATE invoices SET client_id = 626262")
                  .find("invoices_client_id_fkey") != std::string::npos);
        CHECK(fk_violation_of(db.conn, "UPDATE invoice_items SET tax_rate_id = 626262"
                                       " WHERE kind = 'tax'")
                  .find("invoice_items_tax_rate_id_fkey") != std::string::npos);
        CHECK(fk_violation_of(db.conn, "UPDATE usage_records SET invoice_item_id = 626262")
                  .find("usage_records_invoice_item_id_fkey") != std::string::npos);
        CHECK(query_int(db.conn, "SELECT client_id FROM invoices WHERE id = " + inv) == w.client);
        CHECK(query_int(db.conn, "SELECT invoice_item_id FROM usage_records") == w.addon_item);
    }
    SUBCASE("collection items") {
        CHECK(fk_violation_of(db.conn, "INSERT INTO collection_items (collection_id, idx, item)"
                                       " VALUES (gen_random_uuid(), 0, '1')")
                  .find("collection_items_collection_id_fkey") != std::string::npos);
    }
    SUBCASE("statements whose parents all exist are accepted") {
        exec_tx(db.conn, "INSERT INTO invoice_items (invoice_id, kind, amount, subscription_id,"
                         " tax_rate_id) SELECT " + inv + ", 'manual', g, " +
                             std::to_string(w.subscription) + ", NULL FROM generate_series(1, 50) g");
        exec_tx(db.conn, "UPDATE usage_records SET invoice_item_id = " +
                             std::to_string(w.recurring_item));
        exec_tx(db.conn, "UPDATE invoices SET client_id = " + std::to_string(w.other_client));
        CHECK(query_int(db.conn, "SELECT count(*) FROM invoice_items") == items + 50);
        CHECK(orphans(db.conn) == 0);
        return;
    }
    CHECK(query_int(db.conn, "SELECT count(*) FROM invoice_items") == items);
    CHECK(query_int(db.conn, "SELECT count(*) FROM invoices") == invoices);
    CHECK(orphans(db.conn) == 0);
}

TEST_CASE("Schema.ForeignKeys.ParentDeletesRestrictCascadeAndSetNullAsBefore") {
    MigratedDatabase db;
    World w(db.conn);

    SUBCASE("RESTRICT: referenced parents stay") {
        CHECK(fk_violation_of(db.conn, "DELETE FROM tax_rates WHERE id = " +
                                           std::to_string(w.tax_rate))
                  .find("invoice_items_tax_rate_id_fkey") != std::string::npos);
        CHECK(fk_violation_of(db.conn, "DELETE FROM subscription_addons")
                  .find("invoice_items_subscription_addon_id_fkey") != std::string::npos);
        CHECK(fk_violation_of(db.conn, "DELETE FROM billing_runs")
                  .find("invoices_billing_run_id_fkey") != std::string::npos);
        // The subscription is referenced by the invoice and its items (and its add-on,
        // which it would cascade to, by an item).
        CHECK(fk_violation_of(db.conn, "DELETE FROM subscriptions")
                  .find("_fkey") != std::string::npos);
        // The client's subscription is declarative (RESTRICT); without it, the invoice.
        exec_tx(db.conn, "UPDATE invoices SET client_id = " + std::to_string(w.other_client));
        const std::string e = fk_violation_of(
            db.conn, "DELETE FROM clients WHERE id = " + std::to_string(w.other_client));
        CHECK(e.find("invoices_client_id_fkey") != std::string::npos);
        CHECK(e.find("is still referenced from table \"invoices\"") != std::string::npos);
        CHECK(query_int(db.conn, "SELECT count(*) FROM tax_rates") == 2);
        CHECK(query_int(db.conn, "SELECT count(*) FROM subscriptions") == 1);
        CHECK(query_int(db.conn, "SELECT count(*) FROM subscription_addons") == 1);
        CHECK(query_int(db.conn, "SELECT count(*) FROM billing_runs") == 1);
        CHECK(query_int(db.conn, "SELECT count(*) FROM clients") == 2);
        // An unreferenced parent goes.
        exec_tx(db.conn, "DELETE FROM tax_rates WHERE id = " + std::to_string(w.free_tax_rate));
        CHECK(query_int(db.conn, "SELECT count(*) FROM tax_rates") == 1);
    }
    SUBCASE("CASCADE to items, then SET NULL on the usage billed in them") {
        exec_tx(db.conn, "DELETE FROM invoices WHERE id = " + std::to_string(w.invoice));
        CHECK(query_int(db.conn, "SELECT count(*) FROM invoice_items") == 0);
        CHECK(query_int(db.conn, "SELECT count(*) FROM usage_records WHERE id = " +
                                     std::to_string(w.usage_record) +
                                     " AND invoice_item_id IS NULL") == 1);
        // Nothing references the subscription now.
        exec_tx(db.conn, "DELETE FROM billing_runs");
        exec_tx(db.conn, "DELETE FROM subscriptions");
        CHECK(query_int(db.conn, "SELECT count(*) FROM subscriptions") == 0);
    }
    SUBCASE("SET NULL alone, and CASCADE of collection items") {
        exec_tx(db.conn, "DELETE FROM invoice_items WHERE id = " + std::to_string(w.addon_item));
        CHECK(query_int(db.conn, "SELECT count(*) FROM usage_records WHERE invoice_item_id IS NULL") == 1);
        exec_tx(db.conn, "DELETE FROM collections");
        CHECK(query_int(db.conn, "SELECT count(*) FROM collection_items") == 0);
    }
    SUBCASE("a referenced key cannot change") {
        CHECK(fk_violation_of(db.conn, "UPDATE tax_rates SET id = DEFAULT WHERE id = " +
                                           std::to_string(w.tax_rate))
                  .find("invoice_items_tax_rate_id_fkey") != std::string::npos);
        CHECK(fk_violation_of(db.conn, "UPDATE collections SET id = gen_random_uuid()")
                  .find("collection_items_collection_id_fkey") != std::string::npos);
        exec_tx(db.conn, "UPDATE tax_rates SET id = DEFAULT WHERE id = " +
                             std::to_string(w.free_tax_rate));  // unreferenced: allowed
    }
    CHECK(orphans(db.conn) == 0);
}

TEST_CASE("Schema.ForeignKeys.PaymentsKeysAndCollectionDayAsBefore") {
    // Migration 0022: payments' invoice (RESTRICT) and payment method (SET NULL) keys are
    // set-based too, and the one-attempt-per-collection-day index lost its predicate.
    MigratedDatabase db;
    World w(db.conn);
    const std::string inv = std::to_string(w.invoice);
    exec_tx(db.conn, "INSERT INTO payment_methods (client_id, gateway, gateway_reference) "
                     "VALUES (" + std::to_string(w.client) + ", 'sandbox', 'pm_fk')");
    const long long method = query_int(db.conn, "SELECT id FROM payment_methods");
    const std::string cols = "INSERT INTO payments (invoice_id, payment_method_id, gateway, "
                             "idempotency_key, amount, currency, status, collection_day) ";
    CHECK(fk_violation_of(db.conn, cols + "VALUES (727272, NULL, 'sandbox', 'k0', 5, 'EUR', "
                                          "'declined', NULL)")
              .find("payments_invoice_id_fkey") != std::string::npos);
    CHECK(fk_violation_of(db.conn, cols + "SELECT " + inv + ", 727272, 'sandbox', 'k0', 5, "
                                          "currency, 'declined', NULL FROM invoices")
              .find("payments_payment_method_id_fkey") != std::string::npos);
    CHECK(query_int(db.conn, "SELECT count(*) FROM payments") == 0);

    // Two attempts without a collection day are allowed; a second one on a day is not.
    exec_tx(db.conn, cols + "SELECT " + inv + ", " + std::to_string(method) + ", 'sandbox', k, 5, "
                     "currency, 'declined', NULL FROM invoices, (VALUES ('k1'), ('k2')) v(k)");
    exec_tx(db.conn, cols + "SELECT " + inv + ", NULL, 'sandbox', 'k3', 5, currency, 'declined', "
                     "DATE '2024-03-08' FROM invoices");
    CHECK_THROWS_AS(exec_tx(db.conn, cols + "SELECT " + inv + ", NULL, 'sandbox', 'k4', 5, "
                                     "currency, 'declined', DATE '2024-03-08' FROM invoices"),
                    pqxx::unique_violation);
    CHECK(query_int(db.conn, "SELECT count(*) FROM payments") == 3);

    // RESTRICT: an invoice with payments stays (its items are not cascaded either).
    const long long items = query_int(db.conn, "SELECT count(*) FROM invoice_items");
    CHECK(fk_violation_of(db.conn, "DELETE FROM invoices WHERE id = " + inv)
              .find("payments_invoice_id_fkey") != std::string::npos);
    CHECK(query_int(db.conn, "SELECT count(*) FROM invoice_items") == items);
    // SET NULL: a deleted payment method leaves its payments without one.
    exec_tx(db.conn, "DELETE FROM payment_methods WHERE id = " + std::to_string(method));
    CHECK(query_int(db.conn, "SELECT count(*) FROM payments WHERE payment_method_id IS NULL") == 3);
    // A payment's UPDATE to a missing invoice is refused.
    CHECK(fk_violation_of(db.conn, "UPDATE payments SET invoice_id = 828282 WHERE idempotency_key = 'k1'")
              .find("payments_invoice_id_fkey") != std::string::npos);
}

TEST_CASE("Schema.ForeignKeys.TruncateOfAReferencedParentIsRefused") {
    MigratedDatabase db;
    World w(db.conn);
    CHECK(fk_violation_of(db.conn, "TRUNCATE collections")
              .find("cannot truncate a table referenced in a foreign key constraint") !=
          std::string::npos);
    CHECK(fk_violation_of(db.conn, "TRUNCATE tax_rates").find("invoice_items_tax_rate_id_fkey") !=
          std::string::npos);
    CHECK(query_int(db.conn, "SELECT count(*) FROM collections") == 1);
    CHECK(query_int(db.conn, "SELECT count(*) FROM tax_rates") == 2);
    // Truncated together with the children: allowed, as PostgreSQL allows it.
    exec_tx(db.conn, "TRUNCATE collections, collection_items");
    CHECK(query_int(db.conn, "SELECT count(*) FROM collections") == 0);
    CHECK(orphans(db.conn) == 0);
}

TEST_CASE("Schema.ForeignKeys.ParentDeleteOutsideReadCommittedIsRefused") {
    // Under REPEATABLE READ a trigger cannot see children committed after the snapshot, so
    // it refuses instead of guessing (see the migration's header).
    MigratedDatabase db;
    World w(db.conn);
    for (const char* level : {"REPEATABLE READ", "SERIALIZABLE"}) {
        CAPTURE(level);
        pqxx::work t(db.conn);
        t.exec(std::string("SET TRANSACTION ISOLATION LEVEL ") + level);
        CHECK_THROWS_AS(t.exec("DELETE FROM tax_rates WHERE id = " + std::to_string(w.free_tax_rate)),
                        pqxx::feature_not_supported);
    }
    {
        // Deleting nothing is not refused.
        pqxx::work t(db.conn);
        t.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
        t.exec("DELETE FROM tax_rates WHERE id = -1");
        t.commit();
    }
    CHECK(query_int(db.conn, "SELECT count(*) FROM tax_rates") == 2);
}

TEST_CASE("Schema.ForeignKeys.ParentDeleteWaitsForAChildInsertInFlight") {
    // The child's transaction holds FOR KEY SHARE on its parents until it ends; the DELETE
    // waits for it, then sees the committed child.
    MigratedDatabase db;
    World w(db.conn);
    pqxx::connection observer(db.db.url());

    SUBCASE("RESTRICT: the DELETE is refused once the child commits") {
        pqxx::work child(db.conn);
        child.exec(w.tax_item_sql(w.free_tax_rate));
        Background parent(db.db.url(),
                          "DELETE FROM tax_rates WHERE id = " + std::to_string(w.free_tax_rate));
        wait_until_blocked(observer, parent.pid());
        child.commit();
        CHECK(parent.outcome() == "23503");
        CHECK(query_int(observer, "SELECT count(*) FROM tax_rates") == 2);
    }
    SUBCASE("CASCADE: the DELETE takes the committed child with it") {
        pqxx::work child(db.conn);
        child.exec("INSERT INTO invoice_items (invoice_id, kind, amount) VALUES (" +
                   std::to_string(w.invoice) + ", 'manual', 5)");
        Background parent(db.db.url(), "DELETE FROM invoices WHERE id = " + std::to_string(w.invoice));
        wait_until_blocked(observer, parent.pid());
        child.commit();
        CHECK(parent.outcome() == "ok");
        CHECK(query_int(observer, "SELECT count(*) FROM invoice_items") == 0);
    }
    SUBCASE("the child rolls back: the DELETE goes through") {
        pqxx::work child(db.conn);
        child.exec(w.tax_item_sql(w.free_tax_rate));
        Background parent(db.db.url(),
                          "DELETE FROM tax_rates WHERE id = " + std::to_string(w.free_tax_rate));
        wait_until_blocked(observer, parent.pid());
        child.abort();
        CHECK(parent.outcome() == "ok");
        CHECK(query_int(observer, "SELECT count(*) FROM tax_rates") == 1);
    }
    CHECK(orphans(observer) == 0);
}

TEST_CASE("Schema.ForeignKeys.ChildInsertWaitsForAParentDeleteInFlight") {
    // The parent's DELETE holds the row; the child's FOR KEY SHARE waits for it, then finds
    // the row gone (23503) or, after a rollback, locks it.
    MigratedDatabase db;
    World w(db.conn);
    pqxx::connection observer(db.db.url());

    SUBCASE("RESTRICT parent deleted and committed: the child is refused") {
        pqxx::work parent(db.conn);
        parent.exec("DELETE FROM tax_rates WHERE id = " + std::to_string(w.free_tax_rate));
        Background child(db.db.url(), w.tax_item_sql(w.free_tax_rate));
        wait_until_blocked(observer, child.pid());
        parent.commit();
        CHECK(child.outcome() == "23503");
    }
    SUBCASE("CASCADE parent deleted and committed: the child is refused") {
        pqxx::work parent(db.conn);
        parent.exec("DELETE FROM invoices WHERE id = " + std::to_string(w.invoice));
        Background child(db.db.url(), "INSERT INTO invoice_items (invoice_id, kind, amount)"
                                      " VALUES (" + std::to_string(w.invoice) + ", 'manual', 5)");
        wait_until_blocked(observer, child.pid());
        parent.commit();
        CHECK(child.outcome() == "23503");
        CHECK(query_int(observer, "SELECT count(*) FROM invoice_items") == 0);
    }
    SUBCASE("the DELETE rolls back: the child goes in") {
        pqxx::work parent(db.conn);
        parent.exec("DELETE FROM tax_rates WHERE id = " + std::to_string(w.free_tax_rate));
        Background child(db.db.url(), w.tax_item_sql(w.free_tax_rate));
        wait_until_blocked(observer, child.pid());
        parent.abort();
        CHECK(child.outcome() == "ok");
        CHECK(query_int(observer, "SELECT count(*) FROM invoice_items WHERE tax_rate_id = " +
                                      std::to_string(w.free_tax_rate)) == 1);
    }
    CHECK(orphans(observer) == 0);
}
