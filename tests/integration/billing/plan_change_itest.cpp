// billing.change_plan against a real PostgreSQL: mid-period upgrade and downgrade prorated by
// Kill Bill's rule (checked against hand-computed numbers), billed exactly once by the next
// billing.generate_invoices run, idempotent re-runs, and the refusals.
#include <doctest/doctest.h>

#include "engine/core/error.hpp"
#include "plugins/billing/plan_changer.hpp"
#include "tests/integration/billing/money_fixture.hpp"

using namespace artistsaid;
using namespace artistsaid::billing;
using artistsaid::test::MoneyDatabase;

namespace {

// Two plans priced per month in EUR: basic 30.00, pro 60.00 (not taxable, so the amounts
// below are exactly the proration).
struct Plans {
    MoneyDatabase db;
    long long client = 0;
    long long sub = 0;

    explicit Plans(const std::string& start_plan) {
        const long long basic = db.service("basic", false);
        const long long pro = db.service("pro", false);
        db.exec("INSERT INTO service_prices (service_id, currency, cycle, amount) VALUES (" +
                std::to_string(basic) + ", 'EUR', 'monthly', 3000), (" + std::to_string(pro) +
                ", 'EUR', 'monthly', 6000)");
        client = db.client("DE", "", "EUR");
        const long long service = start_plan == "basic" ? basic : pro;
        sub = db.scalar(
            "INSERT INTO subscriptions (client_id, service_id, currency, cycle, "
            "billing_day, start_date, next_due_date, status) VALUES (" +
            std::to_string(client) + ", " + std::to_string(service) +
            ", 'EUR', 'monthly', 1, '2026-04-01', '2026-04-01', 'active') RETURNING id");
        // April 2026 (30 days) is billed in advance at the old price.
        db.generate("2026-04-01", "gen-april");
    }

    nlohmann::json change(const std::string& service, const std::string& on, const std::string& key,
                          bool dry_run = false) {
        PlanChangeOptions o;
        o.subscription_id = sub;
        o.service_code = service;
        o.on = parse_date(on, "on");
        o.dry_run = dry_run;
        o.idempotency_key = key;
        return PlanChanger().change(db.conn, o);
    }

    long long invoice_total(const std::string& issue_date) {
        return db.scalar("SELECT coalesce(sum(total), 0) FROM invoices WHERE issue_date = '" +
                         issue_date + "'");
    }
};

}  // namespace

TEST_CASE("Billing.PlanChange.UpgradeOnDay11IsBilledOnceByTheNextRun") {
    Plans p("basic");
    // Day 11 of a 30-day April: 20 days left. Credit round(3000 * 20/30) = 2000 of basic,
    // charge round(6000 * 20/30) = 4000 of pro: net 20.00.
    auto dry = p.change("pro", "2026-04-11", "change-1", true);
    CHECK(dry["net"] == 2000);
    CHECK(p.db.scalar("SELECT count(*) FROM subscription_adjustments") == 0);

    auto out = p.change("pro", "2026-04-11", "change-1");
    CHECK(out["period_start"] == "2026-04-01");
    CHECK(out["period_end"] == "2026-05-01");
    CHECK(out["period_days"] == 30);
    CHECK(out["remaining_days"] == 20);
    CHECK(out["credit"] == -2000);
    CHECK(out["charge"] == 4000);
    CHECK(out["net"] == 2000);
    CHECK(out["old"]["amount"] == 3000);
    CHECK(out["new"]["amount"] == 6000);
    CHECK(p.db.text("SELECT v.code FROM subscriptions s JOIN services v ON v.id = s.service_id "
                    "WHERE s.id = " +
                    std::to_string(p.sub)) == "pro");

    // The same change again (same key): the same result, nothing new.
    auto again = p.change("pro", "2026-04-11", "change-1");
    CHECK(again["replayed"] == true);
    CHECK(again["net"] == 2000);
    CHECK(p.db.scalar("SELECT count(*) FROM subscription_adjustments") == 2);

    // A run before the renewal bills the proration alone: 20.00.
    p.db.generate("2026-04-15", "gen-mid");
    CHECK(p.invoice_total("2026-04-15") == 2000);
    CHECK(p.db.scalar("SELECT count(*) FROM invoice_items WHERE kind = 'proration'") == 2);
    // The renewal bills pro in full, and no proration again.
    p.db.generate("2026-05-01", "gen-may");
    CHECK(p.invoice_total("2026-05-01") == 6000);
    p.db.generate("2026-05-01", "gen-may-again");
    CHECK(p.db.scalar("SELECT count(*) FROM invoices") == 3);
    CHECK(p.db.scalar("SELECT count(*) FROM invoice_items WHERE kind = 'proration'") == 2);
    CHECK(p.db.scalar("SELECT count(*) FROM subscription_adjustments WHERE invoice_id IS NULL") ==
          0);
    CHECK(p.db.ledger_ok());
}

TEST_CASE("Billing.PlanChange.DowngradeCreditWaitsForTheRenewalAndNetsAgainstIt") {
    Plans p("pro");
    auto out = p.change("basic", "2026-04-11", "down-1");
    CHECK(out["credit"] == -4000);  // round(6000 * 20/30)
    CHECK(out["charge"] == 2000);   // round(3000 * 20/30)
    CHECK(out["net"] == -2000);

    // Alone it would be a negative invoice: it stays pending.
    p.db.generate("2026-04-15", "gen-mid");
    CHECK(p.invoice_total("2026-04-15") == 0);
    CHECK(p.db.scalar("SELECT count(*) FROM subscription_adjustments WHERE invoice_id IS NULL") ==
          2);
    // The renewal: basic 30.00 - 40.00 + 20.00 = 10.00.
    p.db.generate("2026-05-01", "gen-may");
    CHECK(p.invoice_total("2026-05-01") == 1000);
    CHECK(p.db.scalar("SELECT count(*) FROM subscription_adjustments WHERE invoice_id IS NULL") ==
          0);
    p.db.generate("2026-05-02", "gen-later");
    CHECK(p.db.scalar("SELECT count(*) FROM invoice_items WHERE kind = 'proration'") == 2);
    CHECK(p.db.ledger_ok());
}

TEST_CASE("Billing.PlanChange.RefusesBadDatesCancelledSubscriptionsAndNoChange") {
    Plans p("basic");
    CHECK(test::contains(test::input_error_of([&] { p.change("pro", "2026-03-31", "k1"); }),
                         "before the current period's start"));
    CHECK(test::contains(test::input_error_of([&] { p.change("pro", "2026-05-02", "k2"); }),
                         "after the current period"));
    CHECK_THROWS_AS(p.change("nope", "2026-04-11", "k3"), InputError);
    CHECK(test::contains(test::input_error_of([&] { p.change("basic", "2026-04-11", "k4"); }),
                         "nothing to change"));
    p.db.exec("UPDATE subscriptions SET status = 'cancelled'");
    CHECK(test::contains(test::input_error_of([&] { p.change("pro", "2026-04-11", "k5"); }),
                         "cancelled"));
    // Nothing was written by any of them.
    CHECK(p.db.scalar("SELECT count(*) FROM billing_runs WHERE kind = 'change_plan'") == 0);
    CHECK(p.db.scalar("SELECT count(*) FROM subscription_adjustments") == 0);
    CHECK(p.db.text("SELECT v.code FROM subscriptions s JOIN services v ON v.id = s.service_id") ==
          "basic");
}

TEST_CASE("Billing.PlanChange.ChangeOnTheRenewalDayHasNoProration") {
    Plans p("basic");
    auto out = p.change("pro", "2026-05-01", "on-renewal");
    CHECK(out["net"] == 0);
    CHECK(out["adjustments"].empty());
    p.db.generate("2026-05-01", "gen-may");
    CHECK(p.invoice_total("2026-05-01") == 6000);
}

TEST_CASE("Billing.PlanChange.ProrationIsBilledByTheClientsOwnPartitionOnly") {
    Plans p("basic");
    p.change("pro", "2026-04-11", "change-1");
    const long long mine = p.client % 2;
    const auto run = [&](long long partition, const std::string& key) {
        InvoiceRunOptions o;
        o.as_of = parse_date("2026-04-15", "as_of");
        o.partition = static_cast<int>(partition);
        o.partitions = 2;
        o.idempotency_key = key;
        return InvoiceGenerator().generate(p.db.conn, o);
    };
    // The other partition does not bill this client's proration (it would be a second
    // invoice for the client in the same cycle).
    CHECK(run(1 - mine, "gen-other")["invoice_count"] == 0);
    CHECK(p.db.scalar("SELECT count(*) FROM subscription_adjustments WHERE invoice_id IS NULL") == 2);
    CHECK(run(mine, "gen-mine")["invoice_count"] == 1);
    CHECK(p.invoice_total("2026-04-15") == 2000);
    CHECK(p.db.scalar("SELECT count(*) FROM subscription_adjustments WHERE invoice_id IS NULL") == 0);
    CHECK(p.db.ledger_ok());
}
