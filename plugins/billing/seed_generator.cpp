#include "plugins/billing/seed_generator.hpp"

#include <algorithm>
#include <array>
#include <pqxx/pqxx>
#include <string>
#include <tuple>
#include <vector>

#include "engine/core/error.hpp"
#include "engine/store/database.hpp"

namespace artistsaid::billing {
namespace {

// splitmix64: a value per (seed, row, salt), independent of the order rows are made in.
std::uint64_t mix(std::uint64_t seed, std::uint64_t row, std::uint64_t salt) {
    std::uint64_t z = seed + row * 0x9E3779B97F4A7C15ULL + salt * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

constexpr std::array<const char*, 4> kProfessions = {"artist", "broadcaster", "journalist",
                                                     "photographer"};
constexpr std::array<const char*, 4> kFirstNames = {"Ada", "Bo", "Chiara", "Dmitri"};

struct Jurisdiction {
    const char* country;
    const char* region;  // "" for none
    const char* currency;
};
// Ten slots: US states (USD), Canada/Quebec (USD), Germany, France, Ireland (EUR), Japan (JPY).
constexpr std::array<Jurisdiction, 10> kJurisdictions = {{{"US", "NY", "USD"},
                                                          {"US", "CA", "USD"},
                                                          {"US", "TX", "USD"},
                                                          {"US", "OR", "USD"},
                                                          {"DE", "", "EUR"},
                                                          {"DE", "", "EUR"},
                                                          {"FR", "", "EUR"},
                                                          {"IE", "", "EUR"},
                                                          {"JP", "", "JPY"},
                                                          {"CA", "QC", "USD"}}};

// Monthly 50%, annual 20%, quarterly 15%, semiannual 10%, one-off 5%.
const char* cycle_for(std::uint64_t r) {
    const auto p = r % 100;
    if (p < 50) return "monthly";
    if (p < 70) return "annual";
    if (p < 85) return "quarterly";
    if (p < 95) return "semiannual";
    return "one_off";
}

// Ids above the current maximum, and the identity sequence moved past what we add.
std::int64_t reserve_ids(pqxx::work& tx, const std::string& table, std::int64_t count) {
    const auto base =
        tx.exec1("SELECT coalesce(max(id), 0) FROM " + table)[0].as<long long>();
    if (count > 0)
        tx.exec("SELECT setval(pg_get_serial_sequence('" + table + "', 'id'), " +
                 std::to_string(base + count) + ")");
    return base;
}

constexpr const char* kCatalogSql = R"SQL(
INSERT INTO services (code, name, kind, taxable) VALUES
    ('portfolio-hosting', 'Portfolio hosting', 'portfolio_hosting', true),
    ('streaming-slot', 'Streaming slot', 'streaming_slot', true),
    ('gallery-plan', 'Gallery plan', 'gallery_plan', true),
    ('booking-package', 'Booking package', 'booking_package', true),
    ('storage-plan', 'Media storage', 'storage', true)
ON CONFLICT (code) DO NOTHING;

WITH base(code, monthly_usd_cents) AS (VALUES
        ('portfolio-hosting', 1200), ('streaming-slot', 2900), ('gallery-plan', 1900),
        ('booking-package', 4900), ('storage-plan', 500)),
     cur(currency, factor) AS (VALUES ('USD', 100), ('EUR', 92), ('JPY', 150)),
     cyc(cycle, factor) AS (VALUES ('monthly', 100), ('quarterly', 285), ('semiannual', 540),
                                   ('annual', 1020), ('one_off', 200))
INSERT INTO service_prices (service_id, currency, cycle, amount)
SELECT s.id, cur.currency, cyc.cycle, base.monthly_usd_cents::bigint * cur.factor * cyc.factor / 10000
  FROM base JOIN services s ON s.code = base.code CROSS JOIN cur CROSS JOIN cyc
ON CONFLICT (service_id, currency, cycle) DO NOTHING;

INSERT INTO service_addons (service_id, code, name, metric)
SELECT id, 'priority-support', 'Priority support', NULL FROM services
 WHERE code IN ('portfolio-hosting', 'streaming-slot', 'gallery-plan', 'booking-package',
                'storage-plan')
UNION ALL
SELECT id, 'storage-overage', 'Storage above the plan', 'storage_gb' FROM services
 WHERE code = 'storage-plan'
ON CONFLICT (service_id, code) DO NOTHING;

WITH cur(currency, factor) AS (VALUES ('USD', 100), ('EUR', 92), ('JPY', 150)),
     cyc(cycle, months) AS (VALUES ('monthly', 1), ('quarterly', 3), ('semiannual', 6),
                                   ('annual', 12), ('one_off', 1))
INSERT INTO addon_prices (addon_id, currency, cycle, amount, unit_amount, included_quantity)
SELECT a.id, cur.currency, cyc.cycle,
       CASE WHEN a.metric IS NULL THEN 300::bigint * cur.factor * cyc.months / 100 ELSE 0 END,
       CASE WHEN a.metric IS NULL THEN NULL ELSE 25::bigint * cur.factor / 100 END,
       CASE WHEN a.metric IS NULL THEN 0 ELSE 10 * cyc.months END
  FROM service_addons a CROSS JOIN cur CROSS JOIN cyc
 WHERE a.code IN ('priority-support', 'storage-overage')
ON CONFLICT (addon_id, currency, cycle) DO NOTHING;

INSERT INTO tax_rates (country, region, name, rate_ppm, inclusive, compound, level) VALUES
    ('DE', NULL, 'USt', 190000, false, false, 1),
    ('FR', NULL, 'TVA', 200000, false, false, 1),
    ('IE', NULL, 'VAT', 230000, false, false, 1),
    ('US', 'NY', 'NY sales tax', 88750, false, false, 1),
    ('US', 'CA', 'CA sales tax', 72500, false, false, 1),
    ('US', 'TX', 'TX sales tax', 62500, false, false, 1),
    ('JP', NULL, 'Consumption tax', 100000, true, false, 1),
    ('CA', NULL, 'GST', 50000, false, false, 1),
    ('CA', 'QC', 'QST', 99750, false, false, 2)
ON CONFLICT ON CONSTRAINT tax_rates_key DO NOTHING;
)SQL";

}  // namespace

nlohmann::json SeedGenerator::load(pqxx::connection& conn, const SeedOptions& o) const {
    try {
        pqxx::work tx(conn);
        auto counts = load(tx, o);
        tx.commit();
        return counts;
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        store::throw_from_pqxx("loading seed data");
    }
}

nlohmann::json SeedGenerator::load(pqxx::work& tx, const SeedOptions& o) const {
    if (o.clients < 1 || o.subscriptions < 0 || o.marketplace_orders < 0 || o.affiliates < 0 ||
        o.due_spread_days < 1)
        throw InputError("seed: clients must be >= 1, counts >= 0 and due_spread_days >= 1");
    try {
        tx.exec(kCatalogSql);
        const auto services = tx.exec(
            "SELECT id, code FROM services WHERE code IN ('portfolio-hosting', 'streaming-slot', "
            "'gallery-plan', 'booking-package', 'storage-plan') ORDER BY code");
        std::vector<long long> service_ids;
        long long storage_service = 0;
        for (const auto& row : services) {
            service_ids.push_back(row[0].as<long long>());
            if (row[1].as<std::string>() == "storage-plan") storage_service = row[0].as<long long>();
        }

        // Affiliates (small): INSERT.
        const auto aff_base = reserve_ids(tx, "affiliates", o.affiliates);
        for (std::int64_t i = 1; i <= o.affiliates; ++i) {
            tx.exec_params0(
                "INSERT INTO affiliates (id, name, email, referral_code, commission_ppm, "
                "clearing_days, payout_method, payout_account) OVERRIDING SYSTEM VALUE "
                "VALUES ($1, $2, $3, $4, $5, $6, 'paypal', $3)",
                aff_base + i, "Affiliate " + std::to_string(aff_base + i),
                "affiliate" + std::to_string(aff_base + i) + "@example.test",
                "aff-" + std::to_string(aff_base + i), 50000 + 10000 * static_cast<int>(i % 6),
                i % 3 == 0 ? 0 : 30);
        }

        // Users and clients by COPY.
        const auto user_base = reserve_ids(tx, "users", o.clients);
        const auto client_base = reserve_ids(tx, "clients", o.clients);
        {
            pqxx::stream_to users(tx, "users", std::vector<std::string>{"id", "email", "display_name"});
            for (std::int64_t i = 1; i <= o.clients; ++i) {
                const std::int64_t id = user_base + i;
                const char* profession = kProfessions[static_cast<std::size_t>(id % 4)];
                users << std::make_tuple(id, std::string(profession) + "." + std::to_string(id) +
                                                 "@example.test",
                                         std::string(kFirstNames[mix(o.seed, id, 1) % 4]) + " the " +
                                             profession + " " + std::to_string(id));
            }
            users.complete();
        }
        {
            pqxx::stream_to clients(
                tx, "clients",
                std::vector<std::string>{"id", "kind", "user_id", "name", "email", "country",
                                         "region", "currency", "tax_exempt", "affiliate_id"});
            for (std::int64_t i = 1; i <= o.clients; ++i) {
                const std::int64_t id = client_base + i;
                const auto& j = kJurisdictions[mix(o.seed, id, 2) % kJurisdictions.size()];
                const char* profession = kProfessions[static_cast<std::size_t>((user_base + i) % 4)];
                const bool referred = o.affiliates > 0 && mix(o.seed, id, 3) % 5 == 0;
                const std::int64_t affiliate =
                    aff_base + 1 +
                    static_cast<std::int64_t>(mix(o.seed, id, 4) %
                                              static_cast<std::uint64_t>(std::max<std::int64_t>(o.affiliates, 1)));
                const std::string name = std::string(profession) + " studio " + std::to_string(id);
                const std::string email =
                    std::string(profession) + "." + std::to_string(user_base + i) + "@example.test";
                const std::string region = j.region;
                const char* exempt = mix(o.seed, id, 5) % 20 == 0 ? "true" : "false";
                if (referred)
                    clients << std::make_tuple(id, "user", user_base + i, name, email, j.country,
                                               region, j.currency, exempt, affiliate);
                else
                    clients << std::make_tuple(id, "user", user_base + i, name, email, j.country,
                                               region, j.currency, exempt, nullptr);
            }
            clients.complete();
        }
        // An empty region is no region.
        tx.exec_params0("UPDATE clients SET region = NULLIF(region, '') WHERE id > $1 AND region = ''",
                        client_base);

        // Sandbox cards: mostly successes, some declines, a few lost answers (resolved by
        // reconciliation). `sbx_card_<test card>_<client>` stands for the sandbox's test card
        // (gateways/sandbox/sandbox_gateway.hpp), unique per client.
        {
            pqxx::stream_to pms(tx, "payment_methods",
                                std::vector<std::string>{"client_id", "gateway", "kind",
                                                         "gateway_reference", "brand", "last4",
                                                         "exp_month", "exp_year", "is_default"});
            for (std::int64_t i = 1; i <= o.clients; ++i) {
                const std::int64_t id = client_base + i;
                const auto r = mix(o.seed, id, 6) % 100;
                const std::string card = r < 88   ? "4242424242424242"   // succeeds
                                         : r < 94 ? "4000000000009995"   // insufficient_funds
                                         : r < 97 ? "4000000000000002"   // card_declined
                                                  : "4000000000000341";  // answer lost
                pms << std::make_tuple(id, "sandbox", "card",
                                       "sbx_card_" + card + "_" + std::to_string(id), "visa",
                                       card.substr(card.size() - 4), 12, 2030, "true");
            }
            pms.complete();
        }

        // Subscriptions by COPY: due around as_of, every cycle, billing day = the due date's
        // day (31 when the due date is a month's last day, to exercise clamping).
        const auto sub_base = reserve_ids(tx, "subscriptions", o.subscriptions);
        std::int64_t storage_subs = 0;
        {
            pqxx::stream_to subs(tx, "subscriptions",
                                 std::vector<std::string>{"id", "client_id", "service_id",
                                                          "currency", "cycle", "billing_day",
                                                          "start_date", "next_due_date", "status"});
            for (std::int64_t i = 1; i <= o.subscriptions; ++i) {
                const std::int64_t id = sub_base + i;
                const std::int64_t client = client_base + 1 + (i - 1) % o.clients;
                const auto& j = kJurisdictions[mix(o.seed, client, 2) % kJurisdictions.size()];
                const long long service =
                    service_ids[mix(o.seed, id, 7) % service_ids.size()];
                if (service == storage_service) ++storage_subs;
                const Date due = o.as_of - std::chrono::days(3) +
                                 std::chrono::days(static_cast<int>(
                                     mix(o.seed, id, 8) % static_cast<std::uint64_t>(o.due_spread_days + 3)));
                const std::chrono::year_month_day ymd(due);
                const bool last_day = ymd.day() == std::chrono::year_month_day_last(
                                                       ymd.year(), std::chrono::month_day_last(ymd.month()))
                                                       .day();
                const int billing_day = last_day ? 31 : static_cast<int>(unsigned(ymd.day()));
                subs << std::make_tuple(id, client, service, j.currency,
                                        cycle_for(mix(o.seed, id, 9)), billing_day,
                                        format_date(due - std::chrono::days(30)), format_date(due),
                                        "active");
            }
            subs.complete();
        }

        // Add-ons: priority support on every tenth subscription; metered storage on storage plans
        // with usage records before as_of.
        tx.exec_params0(
            "INSERT INTO subscription_addons (subscription_id, addon_id) "
            "SELECT s.id, a.id FROM subscriptions s JOIN service_addons a "
            "  ON a.service_id = s.service_id AND a.code = 'priority-support' "
            " WHERE s.id > $1 AND s.id % 10 = 0",
            sub_base);
        long long usage_records = 0;
        if (o.usage) {
            tx.exec_params0(
                "INSERT INTO subscription_addons (subscription_id, addon_id) "
                "SELECT s.id, a.id FROM subscriptions s JOIN service_addons a "
                "  ON a.service_id = s.service_id AND a.code = 'storage-overage' WHERE s.id > $1",
                sub_base);
            usage_records = static_cast<long long>(
                tx.exec_params(
                      "INSERT INTO usage_records (subscription_id, metric, quantity, recorded_at, "
                      "idempotency_key) "
                      "SELECT s.id, 'storage_gb', 2 + (s.id * 7 + k) % 9, "
                      "       ($2::date - 1 - k)::timestamp AT TIME ZONE 'UTC', "
                      "       'seed:' || s.id || ':' || k "
                      "  FROM subscriptions s JOIN service_addons a "
                      "    ON a.service_id = s.service_id AND a.code = 'storage-overage' "
                      " CROSS JOIN generate_series(0, 2) k WHERE s.id > $1",
                      sub_base, format_date(o.as_of))
                    .affected_rows());
        }

        // Marketplace orders between clients (paid before as_of), and some client credit.
        const auto orders = tx.exec_params(
            "INSERT INTO marketplace_orders (kind, reference, provider_client_id, buyer_client_id, "
            "  description, currency, gross_amount, status, paid_at) "
            "SELECT CASE WHEN g % 3 = 0 THEN 'booking' ELSE 'sale' END, "
            "       'seed-' || $4::bigint || '-' || $1::bigint || '-' || g, "
            "       p.id, b.id, CASE WHEN g % 3 = 0 THEN 'Booking: studio session' "
            "                        ELSE 'Sale: limited print' END, b.currency, "
            "       CASE WHEN b.currency = 'JPY' THEN 3000 + (g * 7919) % 50000 "
            "            ELSE 1500 + (g * 7919) % 48000 END, 'paid', "
            "       ($3::date - (g % 20)::integer)::timestamp AT TIME ZONE 'UTC' "
            "  FROM generate_series(1, $2::bigint) g "
            "  JOIN clients p ON p.id = $1::bigint + 1 + (g * 31) % $5::bigint "
            "  JOIN clients b ON b.id = $1::bigint + 1 + (g * 17 + 5) % $5::bigint "
            " WHERE p.id <> b.id",
            client_base, o.marketplace_orders, format_date(o.as_of),
            static_cast<long long>(o.seed), o.clients);

        const auto credit_rows = tx.exec_params(
            "INSERT INTO credits (client_id, currency, amount, kind, idempotency_key, description) "
            "SELECT id, currency, CASE WHEN currency = 'JPY' THEN 500 ELSE 500 + id % 2000 END, "
            "       'deposit', 'seed:deposit:' || id, 'prepaid credit' "
            "  FROM clients WHERE id > $1 AND id % 20 = 3",
            client_base);
        // The deposits as money received: cash / client credit, one transaction per currency.
        tx.exec_params0(
            "WITH t AS (INSERT INTO ledger_transactions (kind, reference, idempotency_key, description) "
            "           SELECT 'credit.deposit', 'seed', 'seed:deposits:' || $1::bigint || ':' || currency, "
            "                  'seeded prepaid credit' "
            "             FROM credits WHERE kind = 'deposit' AND client_id > $1 "
            "            GROUP BY currency RETURNING id, right(idempotency_key, 3) AS currency), "
            "     s AS (SELECT currency, sum(amount) AS amount FROM credits "
            "            WHERE kind = 'deposit' AND client_id > $1 GROUP BY currency) "
            "INSERT INTO ledger_entries (transaction_id, account_id, amount, currency) "
            "SELECT t.id, a.id, CASE WHEN a.code = 'cash' THEN s.amount ELSE -s.amount END, s.currency "
            "  FROM t JOIN s ON s.currency = t.currency "
            "  JOIN ledger_accounts a ON a.code IN ('cash', 'client_credit') "
            " ORDER BY t.id, a.code",
            client_base);
        tx.exec("ANALYZE");
        return {{"clients", o.clients},
                {"subscriptions", o.subscriptions},
                {"storage_subscriptions", storage_subs},
                {"usage_records", usage_records},
                {"affiliates", o.affiliates},
                {"marketplace_orders", static_cast<long long>(orders.affected_rows())},
                {"credits", static_cast<long long>(credit_rows.affected_rows())}};
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        store::throw_from_pqxx("loading seed data");
    }
}

}  // namespace artistsaid::billing
