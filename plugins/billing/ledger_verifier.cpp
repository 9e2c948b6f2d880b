#include "plugins/billing/ledger_verifier.hpp"

#include <pqxx/pqxx>

#include "engine/core/error.hpp"
#include "engine/store/database.hpp"

namespace artistsaid::billing {
namespace {

struct Check {
    const char* name;
    const char* description;
    const char* sql;  // one row per failure: a single text column describing it
};

constexpr Check kChecks[] = {
    {"transactions_balance", "every ledger transaction sums to zero in each currency",
     "SELECT 'transaction ' || transaction_id || ' ' || currency || ' sums to ' || sum(amount) "
     "FROM ledger_entries GROUP BY transaction_id, currency HAVING sum(amount) <> 0 "
     "ORDER BY transaction_id"},
    {"transactions_have_entries", "every ledger transaction has entries",
     "SELECT 'transaction ' || t.id || ' (' || t.kind || ') has no entries' "
     "FROM ledger_transactions t WHERE NOT EXISTS "
     "(SELECT 1 FROM ledger_entries e WHERE e.transaction_id = t.id) ORDER BY t.id"},
    {"paid_invoices_settled",
     "every paid invoice: succeeded payments + credit applied - overpayment credited = total",
     "SELECT 'invoice ' || i.id || ' (' || coalesce(i.number, 'draft') || '): paid ' || "
     "coalesce(p.paid, 0) || ' + credit ' || i.credit_applied || ' - overpaid ' || "
     "coalesce(o.over, 0) || ' <> total ' || i.total "
     "FROM invoices i "
     "LEFT JOIN (SELECT invoice_id, sum(amount) AS paid FROM payments WHERE status = 'succeeded' "
     "           GROUP BY invoice_id) p ON p.invoice_id = i.id "
     "LEFT JOIN (SELECT invoice_id, sum(amount) AS over FROM credits WHERE kind = 'overpayment' "
     "           GROUP BY invoice_id) o ON o.invoice_id = i.id "
     "WHERE i.status = 'paid' "
     "  AND coalesce(p.paid, 0) + i.credit_applied - coalesce(o.over, 0) <> i.total "
     "ORDER BY i.id"},
    {"amount_paid_matches", "every invoice's amount_paid equals its succeeded payments",
     "SELECT 'invoice ' || i.id || ': amount_paid ' || i.amount_paid || ' but payments ' || "
     "coalesce(p.paid, 0) FROM invoices i "
     "LEFT JOIN (SELECT invoice_id, sum(amount) AS paid FROM payments WHERE status = 'succeeded' "
     "           GROUP BY invoice_id) p ON p.invoice_id = i.id "
     "WHERE i.amount_paid <> coalesce(p.paid, 0) ORDER BY i.id"},
    {"payments_posted_once", "no payment is posted to the ledger twice",
     "SELECT reference || ' posted ' || count(*) || ' times as ' || kind "
     "FROM ledger_transactions WHERE reference LIKE 'payment:%' "
     "GROUP BY reference, kind HAVING count(*) > 1 ORDER BY reference"},
    {"invoice_items_add_up", "each invoice's subtotal, tax and credit equal its items",
     "SELECT 'invoice ' || i.id || ': subtotal ' || i.subtotal || '/' || coalesce(s.sub, 0) || "
     "', tax ' || i.tax || '/' || coalesce(s.tax, 0) || ', credit ' || i.credit_applied || '/' || "
     "coalesce(s.credit, 0) FROM invoices i "
     "LEFT JOIN (SELECT invoice_id, "
     "             sum(amount) FILTER (WHERE kind NOT IN ('tax', 'credit_applied')) AS sub, "
     "             sum(amount) FILTER (WHERE kind = 'tax') AS tax, "
     "             -sum(amount) FILTER (WHERE kind = 'credit_applied') AS credit "
     "           FROM invoice_items GROUP BY invoice_id) s ON s.invoice_id = i.id "
     "WHERE i.subtotal <> coalesce(s.sub, 0) OR i.tax <> coalesce(s.tax, 0) "
     "   OR i.credit_applied <> coalesce(s.credit, 0) ORDER BY i.id"},
    {"billing_runs_posted",
     "each billing run's invoice.issued transactions receive its invoices' totals (as issued, "
     "before late fees)",
     "WITH inv AS (SELECT i.billing_run_id, i.currency, "
     "                    sum(i.total - coalesce(f.amount, 0)) AS total "
     "               FROM invoices i LEFT JOIN (SELECT invoice_id, sum(amount) AS amount "
     "                    FROM invoice_items WHERE kind = 'late_fee' GROUP BY invoice_id) f "
     "                 ON f.invoice_id = i.id "
     "              WHERE i.billing_run_id IS NOT NULL GROUP BY i.billing_run_id, i.currency "
     "             HAVING sum(i.total - coalesce(f.amount, 0)) <> 0), "
     "     led AS (SELECT substr(t.reference, 13)::bigint AS billing_run_id, e.currency, "
     "                    sum(e.amount) AS total "
     "               FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id "
     "               JOIN ledger_accounts a ON a.id = e.account_id AND a.code = 'receivable' "
     "              WHERE t.kind = 'invoice.issued' AND t.reference LIKE 'billing_run:%' "
     "              GROUP BY 1, 2) "
     "SELECT 'billing run ' || coalesce(inv.billing_run_id, led.billing_run_id) || ' ' || "
     "       coalesce(inv.currency, led.currency) || ': invoices ' || coalesce(inv.total, 0) || "
     "       ' but receivable posted ' || coalesce(led.total, 0) "
     "  FROM inv FULL JOIN led ON led.billing_run_id = inv.billing_run_id "
     "                        AND led.currency = inv.currency "
     " WHERE coalesce(inv.total, 0) <> coalesce(led.total, 0) ORDER BY 1"},
};

}  // namespace

nlohmann::json LedgerVerifier::verify(pqxx::connection& conn) const {
    try {
        pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>
            tx(conn);
        nlohmann::json checks = nlohmann::json::array();
        bool ok = true;
        for (const auto& check : kChecks) {
            const auto count = tx.exec1(std::string("SELECT count(*) FROM (") + check.sql +
                                        ") AS failures")[0]
                                   .as<long long>();
            nlohmann::json examples = nlohmann::json::array();
            if (count > 0) {
                ok = false;
                for (const auto& row : tx.exec(std::string(check.sql) + " LIMIT 10"))
                    examples.push_back(row[0].as<std::string>());
            }
            checks.push_back({{"name", check.name},
                              {"description", check.description},
                              {"failures", count},
                              {"examples", examples}});
        }
        tx.commit();
        return {{"ok", ok}, {"checks", checks}};
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        store::throw_from_pqxx("verifying the ledger");
    }
}

}  // namespace artistsaid::billing
