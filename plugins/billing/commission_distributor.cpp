#include "plugins/billing/commission_distributor.hpp"

#include <pqxx/pqxx>
#include <tuple>
#include <vector>

#include "engine/core/error.hpp"
#include "engine/store/database.hpp"
#include "plugins/billing/billing_run_claim.hpp"
#include "plugins/billing/commission_split.hpp"

namespace artistsaid::billing {

nlohmann::json CommissionDistributor::distribute(pqxx::connection& conn,
                                                 const CommissionOptions& o) const {
    if (o.platform_ppm < 0 || o.platform_ppm > 1'000'000)
        throw InputError("commissions.distribute: platform rate must be between 0 and 100%");
    const std::string day = format_date(o.as_of);
    try {
        pqxx::work tx(conn);
        nlohmann::json replay;
        const nlohmann::json parameters = {
            {"as_of", day},
            {"platform_ppm", o.platform_ppm},
            {"clearing_days", o.clearing_days ? nlohmann::json(*o.clearing_days) : nullptr}};
        const auto run = BillingRunClaim::claim(tx, "commissions", o.idempotency_key, day,
                                                parameters, replay);
        if (!run) return replay;
        const std::string r = std::to_string(*run);
        const std::string k = tx.quote(o.idempotency_key);
        const std::string d = tx.quote(day) + "::date";

        // Split in C++ (Money::allocate), stream the shares into a temp table, then write
        // commissions and ledger rows set-based.
        tx.exec("CREATE TEMP TABLE commission_splits (order_id bigint, source_kind text, "
                 "source_reference text, provider_client_id bigint, buyer_client_id bigint, "
                 "affiliate_id bigint, currency text, gross bigint, platform bigint, "
                 "affiliate bigint, provider bigint, clears_at timestamptz) ON COMMIT DROP");
        {
            const auto orders = tx.exec(
                "SELECT o.id, o.kind, o.reference, o.provider_client_id, o.buyer_client_id, "
                "       a.id, o.currency, o.gross_amount, coalesce(o.platform_ppm, " +
                std::to_string(o.platform_ppm) + "), coalesce(a.commission_ppm, 0), "
                "       o.paid_at + make_interval(days => " +
                (o.clearing_days ? std::to_string(*o.clearing_days) : std::string("coalesce(a.clearing_days, 0)")) +
                ") "
                "  FROM marketplace_orders o "
                "  LEFT JOIN clients b ON b.id = o.buyer_client_id "
                "  LEFT JOIN affiliates a ON a.id = b.affiliate_id AND a.status = 'active' "
                " WHERE o.status = 'paid' AND o.paid_at < (" + d + " + 1)::timestamp AT TIME ZONE 'UTC' "
                "   AND NOT EXISTS (SELECT 1 FROM commissions c WHERE c.source_kind = o.kind "
                "                      AND c.source_reference = o.reference) "
                " ORDER BY o.id");
            pqxx::stream_to out(tx, "commission_splits");
            for (const auto& row : orders) {
                const bool has_affiliate = !row[5].is_null();
                const std::int64_t platform_ppm = row[8].as<std::int64_t>();
                const std::int64_t affiliate_ppm =
                    has_affiliate ? std::min<std::int64_t>(row[9].as<std::int64_t>(),
                                                           1'000'000 - platform_ppm)
                                  : 0;
                const Money gross(row[7].as<std::int64_t>(), Currency::from_code(row[6].as<std::string>()));
                const auto shares = CommissionSplit(platform_ppm, affiliate_ppm).split(gross, has_affiliate);
                const auto base = std::make_tuple(
                    row[0].as<long long>(), row[1].as<std::string>(), row[2].as<std::string>(),
                    row[3].as<long long>());
                const auto money = std::make_tuple(row[6].as<std::string>(), gross.minor_units(),
                                                   shares.platform.minor_units(),
                                                   shares.affiliate.minor_units(),
                                                   shares.provider.minor_units(),
                                                   row[10].as<std::string>());
                if (row[4].is_null() && !has_affiliate)
                    out << std::tuple_cat(base, std::make_tuple(nullptr, nullptr), money);
                else if (has_affiliate)
                    out << std::tuple_cat(base, std::make_tuple(row[4].as<long long>(), row[5].as<long long>()), money);
                else
                    out << std::tuple_cat(base, std::make_tuple(row[4].as<long long>(), nullptr), money);
            }
            out.complete();
        }
        // Per-owner accounts, created on first use.
        tx.exec("INSERT INTO ledger_accounts (code, kind, owner_kind, owner_id, name) "
                 "SELECT DISTINCT 'provider_payable:client:' || provider_client_id, 'provider_payable', "
                 "       'client', provider_client_id, 'Owed to provider ' || provider_client_id "
                 "  FROM commission_splits "
                 "ON CONFLICT DO NOTHING");
        tx.exec("CREATE TEMP TABLE commission_new ON COMMIT DROP AS "
                 "WITH ins AS (INSERT INTO commissions (source_kind, source_reference, "
                 "    provider_client_id, buyer_client_id, affiliate_id, currency, gross_amount, "
                 "    platform_amount, affiliate_amount, provider_amount, status, clears_at, cleared_at) "
                 "  SELECT source_kind, source_reference, provider_client_id, buyer_client_id, "
                 "         CASE WHEN affiliate > 0 THEN affiliate_id END, currency, gross, platform, "
                 "         affiliate, provider, CASE WHEN affiliate > 0 THEN 'pending' ELSE 'cleared' END, "
                 "         clears_at, CASE WHEN affiliate > 0 THEN NULL ELSE now() END "
                 "    FROM commission_splits ORDER BY order_id "
                 "  ON CONFLICT (source_kind, source_reference) DO NOTHING "
                 "  RETURNING id, currency, gross_amount, platform_amount, affiliate_amount, "
                 "            provider_amount, provider_client_id) SELECT * FROM ins");
        tx.exec("CREATE TEMP TABLE commission_txns ON COMMIT DROP AS "
                 "WITH t AS (INSERT INTO ledger_transactions (kind, reference, idempotency_key, description) "
                 "  SELECT 'commission.split', 'commission:' || id, " + k + " || ':split:' || id, "
                 "         'marketplace order split' FROM commission_new WHERE gross_amount > 0 ORDER BY id "
                 "  RETURNING id, reference) SELECT * FROM t");
        tx.exec("INSERT INTO ledger_entries (transaction_id, account_id, amount, currency) "
                 "SELECT t.id, a.id, e.amount, c.currency "
                 "  FROM commission_txns t JOIN commission_new c ON 'commission:' || c.id = t.reference "
                 "  CROSS JOIN LATERAL (VALUES (1, 'gateway_clearing', c.gross_amount), "
                 "      (2, 'platform_commission', -c.platform_amount), "
                 "      (3, 'affiliate_payable', -c.affiliate_amount), "
                 "      (4, 'provider_payable:client:' || c.provider_client_id, -c.provider_amount)) "
                 "      AS e(ord, account, amount) "
                 "  JOIN ledger_accounts a ON a.code = e.account "
                 " WHERE e.amount <> 0 ORDER BY t.id, e.ord");

        // Clearing: pending affiliate commissions whose delay has passed.
        tx.exec("INSERT INTO ledger_accounts (code, kind, owner_kind, owner_id, name) "
                 "SELECT DISTINCT 'affiliate_payable:affiliate:' || affiliate_id, 'affiliate_payable', "
                 "       'affiliate', affiliate_id, 'Owed to affiliate ' || affiliate_id "
                 "  FROM commissions WHERE status = 'pending' AND clears_at < (" + d +
                 " + 1)::timestamp AT TIME ZONE 'UTC' ON CONFLICT DO NOTHING");
        tx.exec("CREATE TEMP TABLE commission_cleared ON COMMIT DROP AS "
                 "WITH u AS (UPDATE commissions SET status = 'cleared', cleared_at = now() "
                 "            WHERE status = 'pending' AND clears_at < (" + d +
                 " + 1)::timestamp AT TIME ZONE 'UTC' "
                 "           RETURNING id, currency, affiliate_amount, affiliate_id) SELECT * FROM u");
        tx.exec("CREATE TEMP TABLE clearing_txns ON COMMIT DROP AS "
                 "WITH t AS (INSERT INTO ledger_transactions (kind, reference, idempotency_key, description) "
                 "  SELECT 'commission.cleared', 'commission:' || id, " + k + " || ':cleared:' || id, "
                 "         'affiliate commission cleared' FROM commission_cleared "
                 "   WHERE affiliate_amount > 0 ORDER BY id RETURNING id, reference) SELECT * FROM t");
        tx.exec("INSERT INTO ledger_entries (transaction_id, account_id, amount, currency) "
                 "SELECT t.id, a.id, e.amount, c.currency "
                 "  FROM clearing_txns t JOIN commission_cleared c ON 'commission:' || c.id = t.reference "
                 "  CROSS JOIN LATERAL (VALUES (1, 'affiliate_payable', c.affiliate_amount), "
                 "      (2, 'affiliate_payable:affiliate:' || c.affiliate_id, -c.affiliate_amount)) "
                 "      AS e(ord, account, amount) "
                 "  JOIN ledger_accounts a ON a.code = e.account ORDER BY t.id, e.ord");

        nlohmann::json totals = nlohmann::json::object();
        long long split = 0;
        for (const auto& row : tx.exec(
                 "SELECT currency, count(*), sum(gross_amount)::bigint, sum(platform_amount)::bigint, "
                 "sum(affiliate_amount)::bigint, sum(provider_amount)::bigint FROM commission_new "
                 "GROUP BY currency ORDER BY currency")) {
            split += row[1].as<long long>();
            totals[row[0].as<std::string>()] = {{"gross", row[2].as<long long>()},
                                                {"platform", row[3].as<long long>()},
                                                {"affiliate", row[4].as<long long>()},
                                                {"provider", row[5].as<long long>()}};
        }
        const long long cleared =
            tx.exec1("SELECT count(*) FROM commission_cleared")[0].as<long long>();
        nlohmann::json out = {{"billing_run_id", *run},
                              {"split", split},
                              {"cleared", cleared},
                              {"totals", totals},
                              {"replayed", false}};
        BillingRunClaim::finish(tx, *run, out);
        tx.commit();
        return out;
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        store::throw_from_pqxx("distributing commissions");
    }
}

}  // namespace artistsaid::billing
