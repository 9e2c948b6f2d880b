#include "plugins/billing/late_fee_applier.hpp"

#include <pqxx/pqxx>

#include "engine/core/error.hpp"
#include "engine/store/database.hpp"
#include "plugins/billing/billing_run_claim.hpp"

namespace artistsaid::billing {

nlohmann::json LateFeeApplier::apply(pqxx::connection& conn, Date as_of, const LateFeePolicy& policy,
                                     const std::string& key) const {
    const std::string day = format_date(as_of);
    try {
        pqxx::work tx(conn);
        nlohmann::json replay;
        const nlohmann::json parameters = {{"as_of", day},
                                           {"after_days", policy.after_days()},
                                           {"percent_ppm", policy.percent_ppm()}};
        const auto run = BillingRunClaim::claim(tx, "apply_late_fees", key, day, parameters, replay);
        if (!run) return replay;
        // Per-currency amounts of the policy as a VALUES list (fixed amount or minimum, maximum).
        std::string amounts = "SELECT NULL::text AS currency, 0::bigint AS base, -1::bigint AS cap WHERE false";
        for (const auto& cur : Currency::all()) {
            const std::string code(cur.code());
            const auto base = policy.fixed_or_minimum(code);
            const auto cap = policy.maximum(code);
            if (base == 0 && cap < 0) continue;
            amounts += " UNION ALL SELECT " + tx.quote(code) + ", " + std::to_string(base) + ", " +
                       std::to_string(cap);
        }
        const bool percent = policy.kind() == LateFeePolicy::Kind::kPercent;
        const std::string fee_expr =
            percent ? "least(CASE WHEN p.cap >= 0 THEN p.cap ELSE 9223372036854775807 END, "
                      "greatest(coalesce(p.base, 0), billing_round_div(d.balance::numeric * " +
                          std::to_string(policy.percent_ppm()) + ", 1000000, " +
                          tx.quote(std::string(to_string(policy.rounding()))) + ")))"
                    : "coalesce(p.base, 0)";
        tx.exec(
            "CREATE TEMP TABLE late_fees ON COMMIT DROP AS "
            "WITH d AS (SELECT i.id, i.currency::text AS currency, "
            "                  i.total - i.credit_applied - i.amount_paid AS balance "
            "             FROM invoices i WHERE i.status = 'unpaid' AND i.due_date <= " +
            tx.quote(day) + "::date - " + std::to_string(policy.after_days()) +
            "                AND NOT EXISTS (SELECT 1 FROM invoice_items f WHERE f.invoice_id = i.id "
            "                                   AND f.kind = 'late_fee')), "
            "     p AS (" + amounts + ") "
            "SELECT d.id AS invoice_id, d.currency, " + fee_expr + " AS fee "
            "  FROM d LEFT JOIN p ON p.currency = d.currency WHERE d.balance > 0");
        tx.exec("DELETE FROM late_fees WHERE fee <= 0");
        // The unique index (one late fee per invoice) is the arbiter: a fee that lost a race
        // is simply not added.
        tx.exec(
            "CREATE TEMP TABLE late_applied ON COMMIT DROP AS "
            "WITH ins AS (INSERT INTO invoice_items (invoice_id, kind, description, quantity, "
            "                 unit_amount, amount, taxable, sort_order) "
            "             SELECT invoice_id, 'late_fee', 'Late fee', 1, fee, fee, false, 5 "
            "               FROM late_fees ORDER BY invoice_id "
            "             ON CONFLICT DO NOTHING RETURNING invoice_id, amount) "
            "SELECT ins.invoice_id, ins.amount, f.currency FROM ins "
            "  JOIN late_fees f ON f.invoice_id = ins.invoice_id");
        tx.exec("UPDATE invoices i SET subtotal = i.subtotal + a.amount, total = i.total + a.amount "
                 "  FROM late_applied a WHERE a.invoice_id = i.id");
        const std::string k = tx.quote(key);
        const std::string r = std::to_string(*run);
        tx.exec(
            "CREATE TEMP TABLE late_txns ON COMMIT DROP AS "
            "WITH t AS (INSERT INTO ledger_transactions (kind, reference, idempotency_key, description) "
            "           SELECT 'late_fee.charged', 'billing_run:' || " + r + ", " + k +
            " || ':late_fees:' || currency, count(*) || ' late fees' "
            "             FROM late_applied GROUP BY currency ORDER BY currency "
            "           RETURNING id, right(idempotency_key, 3) AS currency) SELECT * FROM t");
        tx.exec(
            "INSERT INTO ledger_entries (transaction_id, account_id, amount, currency) "
            "SELECT t.id, a.id, CASE WHEN a.code = 'receivable' THEN s.amount ELSE -s.amount END, "
            "       t.currency "
            "  FROM late_txns t "
            "  JOIN (SELECT currency, sum(amount)::bigint AS amount FROM late_applied GROUP BY currency) s "
            "    ON s.currency = t.currency "
            "  JOIN ledger_accounts a ON a.code IN ('receivable', 'revenue') "
            " ORDER BY t.id, a.code");
        nlohmann::json totals = nlohmann::json::object();
        long long count = 0;
        for (const auto& row : tx.exec("SELECT currency, count(*), sum(amount)::bigint FROM "
                                        "late_applied GROUP BY currency ORDER BY currency")) {
            totals[row[0].as<std::string>()] = row[2].as<long long>();
            count += row[1].as<long long>();
        }
        nlohmann::json out = {{"billing_run_id", *run},
                              {"fees_applied", count},
                              {"totals", totals},
                              {"replayed", false}};
        BillingRunClaim::finish(tx, *run, out);
        tx.commit();
        return out;
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        store::throw_from_pqxx("applying late fees");
    }
}

}  // namespace artistsaid::billing
