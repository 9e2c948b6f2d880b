#include "plugins/billing/batch_payment_recorder.hpp"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <string>

namespace artistsaid::billing {

std::size_t BatchPaymentRecorder::record_resolved(pqxx::transaction_base& tx,
                                                  const std::vector<std::int64_t>& payment_ids) {
    if (payment_ids.empty()) return 0;
    const nlohmann::json ids = payment_ids;
    // Lock the invoices first, in id order (the order every charge path locks them in).
    tx.exec_params(
        "SELECT i.id FROM invoices i WHERE i.id IN (SELECT p.invoice_id FROM payments p WHERE "
        "p.id IN (SELECT jsonb_array_elements_text($1::jsonb)::bigint)) ORDER BY i.id FOR UPDATE",
        ids.dump());
    auto rows = tx.exec_params(
        "SELECT p.id, p.invoice_id, i.client_id, p.amount, p.currency, p.idempotency_key, "
        "i.status, i.total, i.credit_applied, i.amount_paid FROM payments p "
        "JOIN invoices i ON i.id = p.invoice_id "
        "WHERE p.id IN (SELECT jsonb_array_elements_text($1::jsonb)::bigint) "
        "AND p.status = 'succeeded' AND NOT EXISTS (SELECT 1 FROM ledger_transactions t "
        "WHERE t.reference = 'payment:' || p.id) ORDER BY p.invoice_id, p.id",
        ids.dump());
    if (rows.empty()) return 0;

    struct InvoiceState {
        std::string status;
        std::int64_t paid = 0;
        std::int64_t added = 0;
        bool now_paid = false;
    };
    std::map<std::int64_t, InvoiceState> invoices;
    nlohmann::json postings = nlohmann::json::array();
    for (const auto& r : rows) {
        const auto invoice_id = r[1].as<std::int64_t>();
        auto [it, fresh] = invoices.try_emplace(invoice_id);
        auto& inv = it->second;
        if (fresh) {
            inv.status = r[6].as<std::string>();
            inv.paid = r[9].as<std::int64_t>();
        }
        const auto amount = r[3].as<std::int64_t>();
        const auto total = r[7].as<std::int64_t>();
        const auto credit = r[8].as<std::int64_t>();
        // As PaymentRecorder::record_resolved: money for an invoice no longer collectable
        // (cancelled meanwhile) is the client's, all of it credit.
        const bool collectable = inv.status == "unpaid" || inv.status == "paid";
        const std::int64_t due_before =
            collectable ? std::max<std::int64_t>(0, total - credit - inv.paid) : 0;
        const std::int64_t overpaid = std::max<std::int64_t>(0, amount - due_before);
        const bool paid = collectable && inv.paid + amount + credit >= total;
        inv.paid += amount;
        inv.added += amount;
        if (paid) {
            inv.status = "paid";
            inv.now_paid = true;
        }
        postings.push_back({{"payment_id", r[0].as<std::int64_t>()},
                            {"invoice_id", invoice_id},
                            {"client_id", r[2].as<std::int64_t>()},
                            {"amount", amount},
                            {"overpaid", overpaid},
                            {"currency", r[4].as<std::string>()},
                            {"key", r[5].as<std::string>()}});
    }
    nlohmann::json changes = nlohmann::json::array();
    for (const auto& [id, inv] : invoices)
        changes.push_back({{"invoice_id", id}, {"added", inv.added}, {"paid", inv.now_paid}});
    tx.exec_params0(
        "UPDATE invoices i SET amount_paid = i.amount_paid + x.added, "
        "status = CASE WHEN x.paid THEN 'paid' ELSE i.status END, "
        "paid_at = CASE WHEN x.paid AND i.paid_at IS NULL THEN now() ELSE i.paid_at END, "
        "updated_at = now() FROM jsonb_to_recordset($1::jsonb) AS x(invoice_id bigint, added bigint, paid boolean) "
        "WHERE i.id = x.invoice_id",
        changes.dump());

    // One ledger transaction per payment, then all their entries in one statement (ordered by
    // transaction and line; the ledger checks them once per statement and transaction, 0015).
    std::map<std::string, std::int64_t> txn_of;
    for (const auto& r : tx.exec_params(
             "INSERT INTO ledger_transactions (kind, reference, idempotency_key, description) "
             "SELECT 'payment.succeeded', 'payment:' || x.payment_id, x.key || ':ledger', "
             "'payment of invoice ' || x.invoice_id FROM jsonb_to_recordset($1::jsonb) AS "
             "x(payment_id bigint, invoice_id bigint, key text) ORDER BY x.payment_id "
             "RETURNING reference, id",
             postings.dump()))
        txn_of[r[0].as<std::string>()] = r[1].as<std::int64_t>();
    for (auto& p : postings)
        p["txn"] = txn_of.at("payment:" + std::to_string(p["payment_id"].get<std::int64_t>()));
    tx.exec_params0(
        "INSERT INTO ledger_entries (transaction_id, account_id, amount, currency) "
        "SELECT x.txn, a.id, e.amount, x.currency FROM jsonb_to_recordset($1::jsonb) AS "
        "x(txn bigint, amount bigint, overpaid bigint, currency text) "
        "CROSS JOIN LATERAL (VALUES (1, 'gateway_clearing', x.amount), "
        "  (2, 'receivable', -(x.amount - x.overpaid)), (3, 'client_credit', -x.overpaid)) "
        "  AS e(ord, account, amount) JOIN ledger_accounts a ON a.code = e.account "
        "WHERE e.amount <> 0 ORDER BY x.txn, e.ord",
        postings.dump());
    tx.exec_params0(
        "INSERT INTO credits (client_id, currency, amount, kind, invoice_id, "
        "ledger_transaction_id, idempotency_key, description) "
        "SELECT x.client_id, x.currency, x.overpaid, 'overpayment', x.invoice_id, x.txn, "
        "x.key || ':overpayment', 'overpayment of invoice ' || x.invoice_id "
        "FROM jsonb_to_recordset($1::jsonb) AS x(client_id bigint, currency text, overpaid bigint, "
        "invoice_id bigint, txn bigint, key text) WHERE x.overpaid > 0 ORDER BY x.txn",
        postings.dump());
    return postings.size();
}

}  // namespace artistsaid::billing
