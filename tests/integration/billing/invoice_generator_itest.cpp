// billing.generate_invoices against a real PostgreSQL: re-runs, periods and month-end,
// catch-up, tax (and that the SQL agrees with TaxCalculator), credit, add-ons and usage,
// the ledger, and the SQL rule functions against their C++ twins.
#include <doctest/doctest.h>

#include <random>

#include "engine/core/error.hpp"
#include "engine/core/money.hpp"
#include "plugins/billing/invoice_generator.hpp"
#include "plugins/billing/ledger_verifier.hpp"
#include "plugins/billing/seed_generator.hpp"
#include "plugins/billing/tax_calculator.hpp"
#include "tests/integration/billing/billing_fixture.hpp"

using namespace artistsaid;
using namespace artistsaid::billing;
using artistsaid::test::BillingDatabase;

namespace {

nlohmann::json generate(BillingDatabase& db, const std::string& as_of, const std::string& key,
                        int lead_days = 0, bool apply_credit = true,
                        RoundingMode mode = RoundingMode::kHalfUp) {
    InvoiceRunOptions o;
    o.as_of = parse_date(as_of, "as_of");
    o.lead_days = lead_days;
    o.apply_credit = apply_credit;
    o.rounding = mode;
    o.idempotency_key = key;
    return InvoiceGenerator().generate(db.conn, o);
}

bool ledger_ok(BillingDatabase& db) {
    auto report = LedgerVerifier().verify(db.conn);
    if (!report["ok"].get<bool>()) MESSAGE(report.dump(2));
    return report["ok"].get<bool>();
}

}  // namespace

TEST_CASE("Billing.Generate.ReRunCreatesNothing") {
    BillingDatabase db;
    SeedOptions seed;
    seed.clients = 40;
    seed.subscriptions = 90;
    seed.as_of = parse_date("2026-01-15", "as_of");
    seed.marketplace_orders = 0;
    SeedGenerator().load(db.conn, seed);

    auto first = generate(db, "2026-01-15", "run1:invoices", 7);
    CHECK(first["invoice_count"].get<long long>() > 0);
    CHECK(first["subscription_periods"].get<long long>() == 90);
    CHECK(first["skipped_subscriptions"].get<long long>() == 0);
    CHECK(first["replayed"].get<bool>() == false);
    const long long invoices = db.scalar("SELECT count(*) FROM invoices");
    const long long items = db.scalar("SELECT count(*) FROM invoice_items");
    const long long entries = db.scalar("SELECT count(*) FROM ledger_entries");
    CHECK(invoices == first["invoice_count"].get<long long>());
    // one invoice per client and currency
    CHECK(db.scalar("SELECT count(*) FROM (SELECT client_id, currency FROM invoices "
                    "GROUP BY 1, 2 HAVING count(*) > 1) x") == 0);
    CHECK(first["invoices"]["$collection"]["id"].is_string());
    CHECK(db.scalar("SELECT item_count FROM collections") ==
          db.scalar("SELECT count(*) FROM invoices WHERE status = 'unpaid'"));

    // The same execution again (a retry after a crash): the first outputs, nothing new.
    auto replay = generate(db, "2026-01-15", "run1:invoices", 7);
    CHECK(replay["replayed"].get<bool>());
    CHECK(replay["invoices"] == first["invoices"]);
    CHECK(replay["invoice_count"] == first["invoice_count"]);
    // Another run the same day: nothing is due any more.
    auto second = generate(db, "2026-01-15", "run2:invoices", 7);
    CHECK(second["invoice_count"].get<long long>() == 0);
    CHECK(db.scalar("SELECT count(*) FROM invoices") == invoices);
    CHECK(db.scalar("SELECT count(*) FROM invoice_items") == items);
    CHECK(db.scalar("SELECT count(*) FROM ledger_entries") == entries);
    // An operator moving a due date back does not bill the period twice.
    db.exec("UPDATE subscriptions SET next_due_date = next_due_date - interval '1 month' "
            "WHERE cycle = 'monthly'");
    auto third = generate(db, "2026-01-15", "run3:invoices", 7);
    CHECK(third["invoice_count"].get<long long>() == 0);
    CHECK(db.scalar("SELECT count(*) FROM invoice_items WHERE kind = 'recurring'") ==
          db.scalar("SELECT count(*) FROM (SELECT DISTINCT subscription_id, period_start FROM "
                    "invoice_items WHERE kind = 'recurring') x"));
    CHECK(ledger_ok(db));
}

TEST_CASE("Billing.Generate.MonthEndPeriodsAndCatchUp") {
    BillingDatabase db;
    const auto svc = db.service();
    const auto c = db.client("FR", "", "EUR");
    const auto monthly = db.subscription(c, svc, "EUR", "monthly", 31, "2025-01-31", 1000);
    auto r = generate(db, "2025-01-31", "m1");
    CHECK(r["invoice_count"] == 1);
    CHECK(db.text("SELECT period_start || '/' || period_end FROM invoice_items WHERE kind = "
                  "'recurring' AND subscription_id = " + std::to_string(monthly)) ==
          "2025-01-31/2025-02-28");
    CHECK(db.text("SELECT next_due_date FROM subscriptions WHERE id = " + std::to_string(monthly)) ==
          "2025-02-28");
    generate(db, "2025-02-28", "m2");
    CHECK(db.text("SELECT next_due_date FROM subscriptions WHERE id = " + std::to_string(monthly)) ==
          "2025-03-31");
    CHECK(db.text("SELECT max(period_end) FROM invoice_items WHERE subscription_id = " +
                  std::to_string(monthly)) == "2025-03-31");

    // Annual on Feb 29, three years behind: every period billed once, on one invoice.
    const auto c2 = db.client("FR", "", "EUR");
    const auto annual = db.subscription(c2, svc, "EUR", "annual", 29, "2021-02-28", 12000);
    auto catch_up = generate(db, "2025-03-01", "m3");
    CHECK(catch_up["subscription_periods"] == 5);  // the annual one, 2021 to 2025
    CHECK(db.text("SELECT string_agg(period_start::text, ',' ORDER BY period_start) FROM "
                  "invoice_items WHERE subscription_id = " + std::to_string(annual)) ==
          "2021-02-28,2022-02-28,2023-02-28,2024-02-29,2025-02-28");
    CHECK(db.scalar("SELECT count(*) FROM invoices WHERE client_id = " + std::to_string(c2)) == 1);
    CHECK(db.text("SELECT next_due_date FROM subscriptions WHERE id = " + std::to_string(annual)) ==
          "2026-02-28");

    // One-off: billed once, then no next due date.
    const auto one = db.subscription(c2, svc, "EUR", "one_off", 10, "2025-03-10", 5000);
    generate(db, "2025-03-10", "m4");
    CHECK(db.text("SELECT next_due_date FROM subscriptions WHERE id = " + std::to_string(one)) == "NULL");
    // A year later: 12 monthly periods (2025-03-31 to 2026-02-28) and 1 annual; not the one-off.
    CHECK(generate(db, "2026-03-10", "m5")["subscription_periods"] == 13);
    CHECK(db.scalar("SELECT count(*) FROM invoice_items WHERE subscription_id = " +
                    std::to_string(one)) == 1);
    // Invoices are due on their subscription's due date, never before the issue date.
    CHECK(db.scalar("SELECT count(*) FROM invoices WHERE due_date < issue_date") == 0);
    CHECK(ledger_ok(db));
}

TEST_CASE("Billing.Generate.TaxByCountryRegionInclusiveAndExempt") {
    BillingDatabase db;
    db.tax_rate("DE", "", 190000);
    db.tax_rate("US", "NY", 88750);
    db.tax_rate("JP", "", 100000, /*inclusive=*/true);
    db.tax_rate("CA", "", 50000);
    db.tax_rate("CA", "QC", 99750, false, 2);
    const auto svc = db.service();
    const auto untaxed = db.service("untaxed", false);
    const auto de = db.client("DE", "", "EUR");
    const auto ny = db.client("US", "NY", "USD");
    const auto tx = db.client("US", "TX", "USD");
    const auto jp = db.client("JP", "", "JPY");
    const auto qc = db.client("CA", "QC", "USD");
    const auto exempt = db.client("DE", "", "EUR", true);
    db.subscription(de, svc, "EUR", "monthly", 1, "2025-06-01", 1999);
    db.subscription(de, untaxed, "EUR", "monthly", 1, "2025-06-01", 500);
    db.subscription(ny, svc, "USD", "monthly", 1, "2025-06-01", 1000);
    db.subscription(tx, svc, "USD", "monthly", 1, "2025-06-01", 1000);
    db.subscription(jp, svc, "JPY", "monthly", 1, "2025-06-01", 1100);
    db.subscription(qc, svc, "USD", "monthly", 1, "2025-06-01", 10000);
    db.subscription(exempt, svc, "EUR", "monthly", 1, "2025-06-01", 1999);
    auto r = generate(db, "2025-06-01", "tax1");
    CHECK(r["invoice_count"] == 6);
    auto invoice = [&](long long client) {
        return db.text("SELECT subtotal || '/' || tax || '/' || total FROM invoices WHERE client_id = " +
                       std::to_string(client));
    };
    CHECK(invoice(de) == "2499/380/2879");    // 19.99 + 19% (3.80), untaxed 5.00
    CHECK(invoice(ny) == "1000/89/1089");     // 8.875% of 10.00 = 0.8875 -> 0.89
    CHECK(invoice(tx) == "1000/0/1000");      // no rate for Texas here
    CHECK(invoice(jp) == "1000/100/1100");    // inclusive: the client pays the price
    CHECK(invoice(qc) == "10000/1498/11498"); // GST 500 + QST 997.5 -> 998
    CHECK(invoice(exempt) == "1999/0/1999");
    CHECK(db.scalar("SELECT count(*) FROM invoice_items i JOIN invoices v ON v.id = i.invoice_id "
                    "WHERE v.client_id = " + std::to_string(qc) + " AND i.kind = 'tax'") == 2);
    CHECK(db.text("SELECT description FROM invoice_items i JOIN invoices v ON v.id = i.invoice_id "
                  "WHERE v.client_id = " + std::to_string(ny) + " AND i.kind = 'tax'") ==
          "Tax USNY1 8.875%");
    // Ledger: receivable = revenue + tax payable, per currency.
    CHECK(db.scalar("SELECT sum(e.amount) FROM ledger_entries e JOIN ledger_accounts a ON "
                    "a.id = e.account_id WHERE a.code = 'tax_payable' AND e.currency = 'USD'") ==
          -(89 + 1498));
    CHECK(ledger_ok(db));
}

TEST_CASE("Billing.Generate.SqlTaxAgreesWithTaxCalculator") {
    for (auto mode : {RoundingMode::kHalfUp, RoundingMode::kHalfEven, RoundingMode::kDown}) {
        CAPTURE(to_string(mode));
        BillingDatabase db;
        std::vector<TaxRate> rates = {
            {0, "DE", std::nullopt, "DE", 190000, false, false, 1, parse_date("2000-01-01", ""), {}},
            {0, "JP", std::nullopt, "JP", 100000, true, false, 1, parse_date("2000-01-01", ""), {}},
            {0, "CA", std::nullopt, "GST", 50000, true, false, 1, parse_date("2000-01-01", ""), {}},
            {0, "CA", std::string("QC"), "QST", 99750, true, true, 2, parse_date("2000-01-01", ""), {}},
            {0, "XX", std::nullopt, "B", 125000, false, false, 1, parse_date("2000-01-01", ""), {}},
            {0, "XX", std::nullopt, "C", 33333, false, true, 2, parse_date("2000-01-01", ""), {}}};
        for (auto& r : rates) {
            db.tax_rate(r.country, r.region.value_or(""), r.rate_ppm, r.inclusive, r.level, r.compound);
            r.id = db.scalar("SELECT max(id) FROM tax_rates");
        }
        TaxCalculator calc(rates, mode);
        const auto svc = db.service();
        std::mt19937_64 rng(11);
        struct Expect {
            long long client;
            long long subtotal, tax;
        };
        std::vector<Expect> expected;
        const std::pair<const char*, const char*> places[] = {{"DE", ""}, {"JP", ""}, {"CA", "QC"}, {"XX", ""}};
        for (int i = 0; i < 60; ++i) {
            const auto& [country, region] = places[i % 4];
            const auto client = db.client(country, region, "USD");
            const long long price = static_cast<long long>(rng() % 200000);
            db.subscription(client, svc, "USD", "monthly", 5, "2025-07-05", price);
            auto applicable = calc.applicable(country, region[0] ? std::optional<std::string>(region)
                                                                 : std::nullopt,
                                              parse_date("2025-07-05", ""));
            auto t = calc.line_tax(Money(price, Currency::from_code("USD")), applicable);
            expected.push_back({client, t.net.minor_units(), t.total_tax().minor_units()});
        }
        generate(db, "2025-07-05", "agree", 0, true, mode);
        for (const auto& e : expected) {
            CAPTURE(e.client);
            CHECK(db.text("SELECT subtotal || '/' || tax FROM invoices WHERE client_id = " +
                          std::to_string(e.client)) ==
                  std::to_string(e.subtotal) + "/" + std::to_string(e.tax));
        }
        CHECK(ledger_ok(db));
    }
}

TEST_CASE("Billing.Generate.CreditBalanceIsApplied") {
    BillingDatabase db;
    const auto svc = db.service();
    const auto some = db.client("FR", "", "EUR");
    const auto plenty = db.client("FR", "", "EUR");
    const auto none = db.client("FR", "", "EUR");
    db.exec("INSERT INTO credits (client_id, currency, amount, kind) VALUES (" + std::to_string(some) +
            ", 'EUR', 500, 'deposit'), (" + std::to_string(plenty) + ", 'EUR', 10000, 'deposit')");
    for (auto c : {some, plenty, none}) db.subscription(c, svc, "EUR", "monthly", 3, "2025-05-03", 2000);
    auto r = generate(db, "2025-05-03", "credit1");
    CHECK(r["totals"]["EUR"]["credit_applied"] == 2500);
    CHECK(r["totals"]["EUR"]["balance_due"] == 3500);
    CHECK(db.text("SELECT status || '/' || credit_applied FROM invoices WHERE client_id = " +
                  std::to_string(some)) == "unpaid/500");
    CHECK(db.text("SELECT status || '/' || credit_applied FROM invoices WHERE client_id = " +
                  std::to_string(plenty)) == "paid/2000");
    CHECK(db.scalar("SELECT balance FROM client_credit_balances WHERE client_id = " +
                    std::to_string(some)) == 0);
    CHECK(db.scalar("SELECT balance FROM client_credit_balances WHERE client_id = " +
                    std::to_string(plenty)) == 8000);
    CHECK(r["to_collect_count"] == 2);  // the paid one is not charged
    // Without apply_credit the balance stays.
    db.subscription(plenty, svc, "EUR", "monthly", 4, "2025-05-04", 700);
    auto r2 = generate(db, "2025-05-04", "credit2", 0, false);
    CHECK(r2["totals"]["EUR"]["credit_applied"] == 0);
    CHECK(db.scalar("SELECT balance FROM client_credit_balances WHERE client_id = " +
                    std::to_string(plenty)) == 8000);
    CHECK(ledger_ok(db));
}

TEST_CASE("Billing.Generate.AddonsAndUsageInArrears") {
    BillingDatabase db;
    const auto svc = db.service();
    const auto c = db.client("FR", "", "EUR");
    const auto sub = db.subscription(c, svc, "EUR", "monthly", 1, "2025-09-01", 1000);
    db.exec("INSERT INTO service_addons (service_id, code, name, metric) VALUES (" + std::to_string(svc) +
            ", 'extra', 'Extra', NULL), (" + std::to_string(svc) + ", 'gb', 'Storage', 'storage_gb')");
    db.exec("INSERT INTO addon_prices (addon_id, currency, cycle, amount, unit_amount, included_quantity) "
            "SELECT id, 'EUR', 'monthly', CASE WHEN metric IS NULL THEN 300 ELSE 0 END, "
            "CASE WHEN metric IS NULL THEN NULL ELSE 25 END, CASE WHEN metric IS NULL THEN 0 ELSE 10 END "
            "FROM service_addons");
    db.exec("INSERT INTO subscription_addons (subscription_id, addon_id, quantity) SELECT " +
            std::to_string(sub) + ", id, CASE WHEN metric IS NULL THEN 2 ELSE 1 END FROM service_addons");
    db.exec("INSERT INTO usage_records (subscription_id, metric, quantity, recorded_at, idempotency_key) VALUES "
            "(" + std::to_string(sub) + ", 'storage_gb', 7, '2025-08-10T12:00:00Z', 'u1'), "
            "(" + std::to_string(sub) + ", 'storage_gb', 9, '2025-08-31T23:59:59Z', 'u2'), "
            "(" + std::to_string(sub) + ", 'storage_gb', 50, '2025-09-01T00:00:00Z', 'u3')");
    auto r = generate(db, "2025-09-01", "usage1");
    CHECK(r["invoice_count"] == 1);
    CHECK(db.text("SELECT amount || ' ' || period_start || '/' || period_end FROM invoice_items "
                  "WHERE kind = 'addon'") == "600 2025-09-01/2025-10-01");
    // 16 used in August, 10 included: 6 x 0.25
    CHECK(db.text("SELECT quantity || ' x ' || unit_amount || ' = ' || amount || ' ' || period_start "
                  "|| '/' || period_end FROM invoice_items WHERE kind = 'usage'") ==
          "6 x 25 = 150 2025-08-01/2025-09-01");
    CHECK(db.scalar("SELECT count(*) FROM usage_records WHERE invoice_item_id IS NOT NULL") == 2);
    CHECK(db.text("SELECT subtotal FROM invoices") == "1750");
    // September's usage (u3) is billed on October's invoice.
    generate(db, "2025-10-01", "usage2");
    CHECK(db.scalar("SELECT count(*) FROM usage_records WHERE invoice_item_id IS NULL") == 0);
    CHECK(db.scalar("SELECT max(amount) FROM invoice_items WHERE kind = 'usage'") == 1000);  // 40 x 25
    CHECK(ledger_ok(db));
}

TEST_CASE("Billing.Generate.DryRunWritesNothingAndBadOptionsAreRefused") {
    BillingDatabase db;
    const auto svc = db.service();
    const auto c = db.client("FR", "", "EUR");
    db.subscription(c, svc, "EUR", "monthly", 1, "2025-09-01", 1000);
    InvoiceRunOptions o;
    o.as_of = parse_date("2025-09-01", "");
    o.idempotency_key = "dry";
    o.dry_run = true;
    auto r = InvoiceGenerator().generate(db.conn, o);
    CHECK(r["invoice_count"] == 1);
    CHECK(r["totals"]["EUR"]["total"] == 1000);
    CHECK(db.scalar("SELECT count(*) FROM invoices") == 0);
    CHECK(db.scalar("SELECT count(*) FROM billing_runs") == 0);
    CHECK(db.text("SELECT next_due_date FROM subscriptions") == "2025-09-01");
    o.dry_run = false;
    o.lead_days = -1;
    CHECK_THROWS_AS(InvoiceGenerator().generate(db.conn, o), InputError);
    o.lead_days = 0;
    o.idempotency_key = "";
    CHECK_THROWS_AS(InvoiceGenerator().generate(db.conn, o), InputError);
}

TEST_CASE("Billing.Generate.PartitionsBillTheSameBookAsOneRun") {
    // Two identically seeded books (add-ons, usage, taxes, credit): one billed in one run,
    // the other in three client partitions. Same invoices, items and totals; each client in
    // exactly one partition; re-running a partition creates nothing.
    SeedOptions seed;
    seed.clients = 60;
    seed.subscriptions = 150;
    seed.as_of = parse_date("2026-01-15", "as_of");
    seed.marketplace_orders = 0;
    BillingDatabase whole;
    BillingDatabase parted;
    SeedGenerator().load(whole.conn, seed);
    SeedGenerator().load(parted.conn, seed);

    const auto one = generate(whole, "2026-01-15", "whole", 7);
    nlohmann::json sum = nlohmann::json::object();
    long long invoices = 0;
    long long periods = 0;
    for (int p = 0; p < 3; ++p) {
        InvoiceRunOptions o;
        o.as_of = seed.as_of;
        o.lead_days = 7;
        o.partition = p;
        o.partitions = 3;
        o.idempotency_key = "part:" + std::to_string(p);
        const auto out = InvoiceGenerator().generate(parted.conn, o);
        CHECK(parted.scalar("SELECT count(*) FROM invoices WHERE billing_run_id = " +
                            std::to_string(out["billing_run_id"].get<long long>()) +
                            " AND client_id % 3 <> " + std::to_string(p)) == 0);
        invoices += out["invoice_count"].get<long long>();
        periods += out["subscription_periods"].get<long long>();
        for (const auto& [currency, t] : out["totals"].items()) {
            auto& to = sum[currency];
            if (!to.is_object()) to = nlohmann::json::object();
            for (const auto& [k, v] : t.items()) to[k] = to.value(k, 0LL) + v.get<long long>();
        }
    }
    CHECK(invoices == one["invoice_count"].get<long long>());
    CHECK(periods == one["subscription_periods"].get<long long>());
    CHECK(sum == one["totals"]);
    const std::string by_client =
        "SELECT string_agg(client_id || ':' || currency || ':' || total || ':' || credit_applied || "
        "':' || (SELECT count(*) FROM invoice_items ii WHERE ii.invoice_id = i.id), ',' "
        "ORDER BY client_id, currency) FROM invoices i";
    CHECK(parted.text(by_client) == whole.text(by_client));
    // Gap-free numbers across the partitions: 1..N, each once.
    CHECK(parted.scalar("SELECT count(DISTINCT number) FROM invoices") == invoices);
    CHECK(parted.text("SELECT min(number) || '..' || max(number) FROM invoices") ==
          whole.text("SELECT min(number) || '..' || max(number) FROM invoices"));
    CHECK(ledger_ok(parted));

    const long long items = parted.scalar("SELECT count(*) FROM invoice_items");
    InvoiceRunOptions again;
    again.as_of = seed.as_of;
    again.lead_days = 7;
    again.partition = 1;
    again.partitions = 3;
    again.idempotency_key = "part:1:again";
    CHECK(InvoiceGenerator().generate(parted.conn, again)["invoice_count"] == 0);
    CHECK(parted.scalar("SELECT count(*) FROM invoice_items") == items);

    // Bad partitions are refused before anything is written.
    const long long runs = parted.scalar("SELECT count(*) FROM billing_runs");
    for (const auto& [partition, partitions] :
         std::vector<std::pair<int, int>>{{0, 0}, {3, 3}, {-1, 2}, {0, kMaxPartitions + 1}}) {
        InvoiceRunOptions bad = again;
        bad.idempotency_key = "bad";
        bad.partition = partition;
        bad.partitions = partitions;
        CHECK_THROWS_AS(InvoiceGenerator().generate(parted.conn, bad), InputError);
    }
    CHECK(parted.scalar("SELECT count(*) FROM billing_runs") == runs);
}

TEST_CASE("Billing.Sql.RuleFunctionsMatchTheCpp") {
    BillingDatabase db;
    std::mt19937_64 rng(3);
    for (int i = 0; i < 300; ++i) {
        const int day = 1 + static_cast<int>(rng() % 31);
        const auto cycle = static_cast<BillingCycle>(rng() % 5);
        const Date start = clamp_to_month(std::chrono::year(2020 + static_cast<int>(rng() % 10)),
                                          std::chrono::month(1 + static_cast<unsigned>(rng() % 12)), day);
        const auto period = BillingPeriod::starting(start, cycle, day);
        CHECK(db.text("SELECT billing_period_end('" + format_date(start) + "', '" +
                      std::string(to_string(cycle)) + "', " + std::to_string(day) + ")") ==
              format_date(period.end));
        const long long n = static_cast<long long>(rng() % 2000001) - 1000000;
        const long long d = 1 + static_cast<long long>(rng() % 1000);
        for (auto mode : {RoundingMode::kHalfUp, RoundingMode::kHalfEven, RoundingMode::kHalfDown,
                          RoundingMode::kUp, RoundingMode::kDown}) {
            CHECK(db.scalar("SELECT billing_round_div(" + std::to_string(n) + ", " + std::to_string(d) +
                            ", '" + std::string(to_string(mode)) + "')") == divide_rounded(n, d, mode));
            CHECK(db.scalar("SELECT billing_round_idiv(" + std::to_string(n) + ", " + std::to_string(d) +
                            ", '" + std::string(to_string(mode)) + "')") == divide_rounded(n, d, mode));
            CHECK(db.scalar("SELECT billing_round_idiv(" + std::to_string(n) + ", " + std::to_string(-d) +
                            ", '" + std::string(to_string(mode)) + "')") == divide_rounded(n, -d, mode));
        }
    }
}

TEST_CASE("Billing.Sql.FormatMoneyMatchesMoneyToStringForEveryCurrency") {
    BillingDatabase db;
    std::mt19937_64 rng(5);
    const std::vector<long long> fixed{0, 1, -1, 5, 99, 100, 1250, -1250, 100000, 9223372036854775807LL,
                                       -9223372036854775807LL};
    for (const auto& currency : Currency::all()) {
        std::vector<long long> amounts = fixed;
        for (int i = 0; i < 5; ++i) amounts.push_back(static_cast<long long>(rng() % 20000001) - 10000000);
        for (long long minor : amounts) {
            const std::string code(currency.code());
            CHECK_MESSAGE(db.text("SELECT billing_format_money(" + std::to_string(minor) + ", '" + code + "')") ==
                              Money(minor, currency).to_string(),
                          code, " ", minor);
        }
    }
}

TEST_CASE("Billing.LedgerVerify.FailsOnCorruptedRows") {
    BillingDatabase db;
    const auto svc = db.service();
    const auto c = db.client("FR", "", "EUR");
    db.subscription(c, svc, "EUR", "monthly", 1, "2025-09-01", 1000);
    generate(db, "2025-09-01", "v1");
    CHECK(ledger_ok(db));
    // amount_paid without a payment
    db.exec("UPDATE invoices SET amount_paid = 1000, status = 'paid', paid_at = now()");
    auto report = LedgerVerifier().verify(db.conn);
    CHECK_FALSE(report["ok"].get<bool>());
    CHECK(report["checks"][3]["name"] == "amount_paid_matches");
    CHECK(report["checks"][3]["failures"] == 1);
    CHECK(report["checks"][2]["failures"] == 1);  // paid without payments
    db.exec("UPDATE invoices SET amount_paid = 0, status = 'unpaid', paid_at = NULL");
    CHECK(ledger_ok(db));
    // an entry changed behind the triggers' back
    db.exec("ALTER TABLE ledger_entries DISABLE TRIGGER USER; "
            "UPDATE ledger_entries SET amount = amount + 1 WHERE id = (SELECT min(id) FROM ledger_entries); "
            "ALTER TABLE ledger_entries ENABLE TRIGGER USER");
    report = LedgerVerifier().verify(db.conn);
    CHECK_FALSE(report["ok"].get<bool>());
    CHECK(report["checks"][0]["failures"] == 1);
    CHECK(report["checks"][6]["failures"] == 1);  // receivable no longer matches the invoices
}
