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
    {"refunds_posted_once",
     "every succeeded refund is posted once (refund.succeeded) with a credit note of its amount; "
     "no other refund is posted",
     "SELECT 'refund ' || r.id || ' (' || r.status || '): posted ' || coalesce(l.n, 0) || "
     "       ' times, credit note ' || coalesce(n.number, 'none') || ' of ' || "
     "       coalesce(n.total, 0) || ' for ' || r.amount "
     "  FROM refunds r "
     "  LEFT JOIN credit_notes n ON n.id = r.credit_note_id AND r.kind = 'invoice' "
     "  LEFT JOIN (SELECT substr(reference, 8)::bigint AS id, count(*) AS n "
     "               FROM ledger_transactions WHERE kind = 'refund.succeeded' "
     "                AND reference LIKE 'refund:%' GROUP BY 1) l ON l.id = r.id "
     " WHERE r.kind = 'invoice' AND ((r.status = 'succeeded' AND (coalesce(l.n, 0) <> 1 OR "
     "        n.total IS DISTINCT FROM r.amount)) OR (r.status <> 'succeeded' AND "
     "        (coalesce(l.n, 0) <> 0 OR r.credit_note_id IS NOT NULL))) ORDER BY r.id"},
    {"credit_refunds_posted",
     "every credit refund reserves its credit once (credit_refund.reserved and a credits row); "
     "a succeeded one is posted once (refund.succeeded), a failed one gives its credit back "
     "once (credit_refund.released and a credits row), others neither",
     "SELECT 'credit refund ' || x.id || ' (' || x.status || '): reserved ' || x.reserved || "
     "       ', posted ' || x.posted || ', released ' || x.released || ', credit taken ' || "
     "       x.taken || ' and restored ' || x.restored || ' for ' || x.amount "
     "  FROM (SELECT r.id, r.status, r.amount, r.credit_note_id, "
     "          (SELECT count(*) FROM ledger_transactions t WHERE t.reference = "
     "            'credit_refund:' || r.id AND t.kind = 'credit_refund.reserved') AS reserved, "
     "          (SELECT count(*) FROM ledger_transactions t WHERE t.reference = "
     "            'refund:' || r.id AND t.kind = 'refund.succeeded') AS posted, "
     "          (SELECT count(*) FROM ledger_transactions t WHERE t.reference = "
     "            'credit_refund_release:' || r.id AND t.kind = 'credit_refund.released') "
     "            AS released, "
     "          (SELECT coalesce(sum(c.amount), 0) FROM credits c WHERE c.idempotency_key = "
     "            r.idempotency_key || ':credit') AS taken, "
     "          (SELECT coalesce(sum(c.amount), 0) FROM credits c WHERE c.idempotency_key = "
     "            r.idempotency_key || ':credit_release') AS restored "
     "          FROM refunds r WHERE r.kind = 'client_credit') x "
     " WHERE x.reserved <> 1 OR x.taken <> -x.amount OR x.credit_note_id IS NOT NULL "
     "    OR x.posted <> (x.status = 'succeeded')::int OR x.released <> (x.status = 'failed')::int "
     "    OR x.restored <> CASE WHEN x.status = 'failed' THEN x.amount ELSE 0 END ORDER BY x.id"},
    {"credit_balances_match",
     "every client's credit balance per currency equals the sum of its credits rows",
     "SELECT 'client ' || coalesce(b.client_id, c.client_id) || ' ' || "
     "       coalesce(b.currency, c.currency) || ': balance ' || coalesce(b.balance, 0) || "
     "       ' but credits sum to ' || coalesce(c.total, 0) "
     "  FROM client_credit_balances b FULL JOIN (SELECT client_id, currency, sum(amount) AS total "
     "       FROM credits GROUP BY 1, 2) c ON c.client_id = b.client_id AND c.currency = b.currency "
     " WHERE coalesce(b.balance, 0) <> coalesce(c.total, 0) ORDER BY 1"},
    {"credit_notes_balance",
     "every credit note is posted once (credit_note.issued): revenue and tax payable debited "
     "by its subtotal and tax",
     "SELECT 'credit note ' || n.number || ': posted ' || coalesce(l.n, 0) || ' times, revenue ' "
     "       || coalesce(l.revenue, 0) || '/' || n.subtotal || ', tax ' || coalesce(l.tax, 0) || "
     "       '/' || n.tax "
     "  FROM credit_notes n "
     "  LEFT JOIN (SELECT substr(t.reference, 13)::bigint AS id, count(DISTINCT t.id) AS n, "
     "                    coalesce(sum(e.amount) FILTER (WHERE a.code = 'revenue'), 0) AS revenue, "
     "                    coalesce(sum(e.amount) FILTER (WHERE a.code = 'tax_payable'), 0) AS tax "
     "               FROM ledger_transactions t "
     "               JOIN ledger_entries e ON e.transaction_id = t.id "
     "               JOIN ledger_accounts a ON a.id = e.account_id "
     "              WHERE t.kind = 'credit_note.issued' AND t.reference LIKE 'credit_note:%' "
     "              GROUP BY 1) l ON l.id = n.id "
     " WHERE coalesce(l.n, 0) <> 1 OR l.revenue <> n.subtotal OR l.tax <> n.tax "
     " ORDER BY n.id"},
    {"credit_notes_voided",
     "every void credit note is reversed once (credit_note.voided: revenue and tax payable "
     "credited back by its subtotal and tax, and its credit taken back when it went to the "
     "client's balance); no other credit note is",
     "SELECT 'credit note ' || n.number || ' (' || n.status || '): reversed ' || "
     "       coalesce(l.n, 0) || ' times, revenue ' || coalesce(l.revenue, 0) || '/' || "
     "       -n.subtotal || ', tax ' || coalesce(l.tax, 0) || '/' || -n.tax || ', credit ' || "
     "       coalesce(c.amount, 0) "
     "  FROM credit_notes n "
     "  LEFT JOIN (SELECT substr(t.reference, 18)::bigint AS id, count(DISTINCT t.id) AS n, "
     "                    coalesce(sum(e.amount) FILTER (WHERE a.code = 'revenue'), 0) AS revenue, "
     "                    coalesce(sum(e.amount) FILTER (WHERE a.code = 'tax_payable'), 0) AS tax "
     "               FROM ledger_transactions t "
     "               JOIN ledger_entries e ON e.transaction_id = t.id "
     "               JOIN ledger_accounts a ON a.id = e.account_id "
     "              WHERE t.kind = 'credit_note.voided' AND t.reference LIKE 'credit_note_void:%' "
     "              GROUP BY 1) l ON l.id = n.id "
     "  LEFT JOIN (SELECT credit_note_id, sum(amount) AS amount FROM credits "
     "              WHERE kind = 'credit_note' AND amount < 0 GROUP BY 1) c "
     "    ON c.credit_note_id = n.id "
     " WHERE (n.status = 'void' AND (coalesce(l.n, 0) <> 1 OR l.revenue <> -n.subtotal "
     "        OR l.tax <> -n.tax OR coalesce(c.amount, 0) <> CASE WHEN n.kind = "
     "        'client_credit' THEN -n.total ELSE 0 END)) "
     "    OR (n.status <> 'void' AND (coalesce(l.n, 0) <> 0 OR c.amount IS NOT NULL)) "
     " ORDER BY n.id"},
    {"refunded_within_paid",
     "no payment is refunded (succeeded or in flight) beyond what was paid less its "
     "overpayment, and no invoice is credited beyond its total",
     "SELECT 'payment ' || p.id || ' (' || p.status || '): refunds ' || r.refunded || "
     "       ' > refundable ' || (p.amount - coalesce(c.over, 0)) "
     "  FROM payments p "
     "  JOIN (SELECT payment_id, sum(amount) AS refunded FROM refunds WHERE kind = 'invoice' "
     "          AND status IN ('succeeded', 'pending', 'unknown') GROUP BY 1) r "
     "    ON r.payment_id = p.id "
     "  LEFT JOIN (SELECT idempotency_key, sum(amount) AS over FROM credits "
     "              WHERE kind = 'overpayment' GROUP BY 1) c "
     "    ON c.idempotency_key = p.idempotency_key || ':overpayment' "
     " WHERE r.refunded > CASE WHEN p.status = 'succeeded' THEN p.amount - coalesce(c.over, 0) "
     "                         ELSE 0 END "
     "UNION ALL "
     "SELECT 'payment ' || p.id || ': credit refunds ' || r.refunded || ' > overpayment ' || "
     "       coalesce(c.over, 0) "
     "  FROM payments p "
     "  JOIN (SELECT payment_id, sum(amount) AS refunded FROM refunds WHERE kind = "
     "          'client_credit' AND status IN ('succeeded', 'pending', 'unknown') GROUP BY 1) r "
     "    ON r.payment_id = p.id "
     "  LEFT JOIN (SELECT idempotency_key, sum(amount) AS over FROM credits "
     "              WHERE kind = 'overpayment' GROUP BY 1) c "
     "    ON c.idempotency_key = p.idempotency_key || ':overpayment' "
     " WHERE p.status <> 'succeeded' OR r.refunded > coalesce(c.over, 0) "
     "UNION ALL "
     "SELECT 'invoice ' || i.id || ': credit notes ' || n.credited || ' > total ' || i.total "
     "  FROM invoices i JOIN (SELECT invoice_id, sum(total) AS credited FROM credit_notes "
     "                         WHERE status <> 'void' GROUP BY 1) n ON n.invoice_id = i.id "
     " WHERE n.credited > i.total ORDER BY 1"},
    {"payments_linked",
     "every succeeded payment is linked to one posting (payment.succeeded); no other payment is",
     "SELECT 'payment ' || p.id || ' (' || p.status || '): ' || "
     "       CASE WHEN p.ledger_transaction_id IS NULL THEN 'not posted' "
     "            WHEN p.status <> 'succeeded' THEN 'posted by transaction ' || "
     "                 p.ledger_transaction_id || ' but not succeeded' "
     "            ELSE 'linked to transaction ' || p.ledger_transaction_id || ' (' || t.kind || "
     "                 ')' END "
     "  FROM payments p LEFT JOIN ledger_transactions t ON t.id = p.ledger_transaction_id "
     " WHERE (p.status = 'succeeded') <> (p.ledger_transaction_id IS NOT NULL) "
     "    OR t.kind <> 'payment.succeeded' ORDER BY p.id"},
    {"payment_postings_match",
     "each payment posting's entries equal the sums of its linked payments per currency: "
     "gateway_clearing = amounts, receivable = -(amounts - overpaid), client_credit = "
     "-overpaid (its overpayment credits); a 'payment:<id>' posting posts that payment alone; "
     "no posting without payments",
     "WITH posting AS (SELECT id, reference FROM ledger_transactions "
     "                  WHERE kind = 'payment.succeeded'), "
     "     led AS (SELECT e.transaction_id AS txn, e.currency, "
     "                    coalesce(sum(e.amount) FILTER (WHERE a.code = 'gateway_clearing'), 0) "
     "                      AS clearing, "
     "                    coalesce(sum(e.amount) FILTER (WHERE a.code = 'receivable'), 0) "
     "                      AS receivable, "
     "                    coalesce(sum(e.amount) FILTER (WHERE a.code = 'client_credit'), 0) "
     "                      AS credit, "
     "                    count(*) FILTER (WHERE a.code NOT IN ('gateway_clearing', "
     "                      'receivable', 'client_credit')) AS other "
     "               FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id "
     "              WHERE e.transaction_id IN (SELECT id FROM posting) GROUP BY 1, 2), "
     "     pay AS (SELECT ledger_transaction_id AS txn, currency, count(*) AS n, "
     "                    sum(amount) AS amount, min(id) AS first, max(id) AS last "
     "               FROM payments WHERE ledger_transaction_id IS NOT NULL GROUP BY 1, 2), "
     "     over AS (SELECT ledger_transaction_id AS txn, currency, sum(amount) AS amount "
     "                FROM credits WHERE kind = 'overpayment' "
     "                 AND ledger_transaction_id IN (SELECT id FROM posting) GROUP BY 1, 2), "
     "     k AS (SELECT txn, currency FROM led UNION SELECT txn, currency FROM pay "
     "           UNION SELECT txn, currency FROM over) "
     "SELECT 'payment posting ' || t.id || ' (' || coalesce(t.reference, '') || ') ' || "
     "       k.currency || ': ' || coalesce(pay.n, 0) || ' payments of ' || "
     "       coalesce(pay.amount, 0) || ', overpaid ' || coalesce(over.amount, 0) || "
     "       '; gateway_clearing ' || coalesce(led.clearing, 0) || ', receivable ' || "
     "       coalesce(led.receivable, 0) || ', client_credit ' || coalesce(led.credit, 0) || "
     "       ', other entries ' || coalesce(led.other, 0) "
     "  FROM posting t JOIN k ON k.txn = t.id "
     "  LEFT JOIN led ON led.txn = k.txn AND led.currency = k.currency "
     "  LEFT JOIN pay ON pay.txn = k.txn AND pay.currency = k.currency "
     "  LEFT JOIN over ON over.txn = k.txn AND over.currency = k.currency "
     " WHERE coalesce(pay.n, 0) = 0 "
     "    OR coalesce(led.clearing, 0) <> pay.amount "
     "    OR coalesce(led.receivable, 0) <> -(pay.amount - coalesce(over.amount, 0)) "
     "    OR coalesce(led.credit, 0) <> -coalesce(over.amount, 0) "
     "    OR coalesce(led.other, 0) <> 0 "
     "    OR (t.reference ~ '^payment:[0-9]+$' AND (pay.first <> pay.last "
     "        OR pay.first <> substr(t.reference, 9)::bigint)) "
     " ORDER BY t.id, k.currency"},
    {"overpayments_in_their_posting",
     "every payment's overpayment credit is posted by the payment's own posting, in its "
     "currency",
     "SELECT 'overpayment credit ' || c.id || ' of payment ' || p.id || ': transaction ' || "
     "       coalesce(c.ledger_transaction_id::text, 'none') || ' ' || c.currency || "
     "       ', the payment''s posting ' || coalesce(p.ledger_transaction_id::text, 'none') || "
     "       ' ' || p.currency "
     "  FROM credits c JOIN payments p ON c.idempotency_key = p.idempotency_key || "
     "       ':overpayment' "
     " WHERE c.kind = 'overpayment' AND (c.ledger_transaction_id IS DISTINCT FROM "
     "       p.ledger_transaction_id OR c.currency <> p.currency) ORDER BY c.id"},
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
