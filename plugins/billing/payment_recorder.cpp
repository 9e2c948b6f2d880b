#include "plugins/billing/payment_recorder.hpp"

#include <algorithm>

#include "engine/core/error.hpp"

namespace artistsaid::billing {

RecordedPayment PaymentRecorder::record_succeeded(pqxx::work& tx, std::int64_t invoice_id,
                                                  std::int64_t amount, const std::string& currency,
                                                  const std::string& gateway,
                                                  const std::string& gateway_reference,
                                                  const std::string& key) {
    RecordedPayment out;
    if (amount <= 0) throw InputError("a payment amount must be positive");
    auto existing = tx.exec_params("SELECT id, invoice_id FROM payments WHERE idempotency_key = $1", key);
    if (!existing.empty()) {
        if (existing[0][1].as<std::int64_t>() != invoice_id)
            throw InputError("payment key '" + key + "' was recorded for another invoice");
        out.payment_id = existing[0][0].as<std::int64_t>();
        out.duplicate = true;
        out.invoice_paid = tx.exec_params1("SELECT status = 'paid' FROM invoices WHERE id = $1",
                                           invoice_id)[0].as<bool>();
        return out;
    }
    auto inv = tx.exec_params("SELECT client_id, currency, status, total, credit_applied, amount_paid "
                              "FROM invoices WHERE id = $1 FOR UPDATE", invoice_id);
    if (inv.empty()) throw InputError("no invoice " + std::to_string(invoice_id), ErrorCode::kNotFound);
    const auto client = inv[0][0].as<std::int64_t>();
    if (inv[0][1].as<std::string>() != currency)
        throw InputError("invoice " + std::to_string(invoice_id) + " is in " + inv[0][1].as<std::string>() +
                         ", not " + currency);
    const std::string status = inv[0][2].as<std::string>();
    if (status != "unpaid" && status != "paid")
        throw InputError("invoice " + std::to_string(invoice_id) + " is " + status);
    const auto total = inv[0][3].as<std::int64_t>();
    const auto credit = inv[0][4].as<std::int64_t>();
    const auto paid_before = inv[0][5].as<std::int64_t>();
    const std::int64_t due_before = std::max<std::int64_t>(0, total - credit - paid_before);
    out.overpaid = std::max<std::int64_t>(0, amount - due_before);

    out.payment_id = tx.exec_params1(
        "INSERT INTO payments (invoice_id, gateway, gateway_reference, idempotency_key, amount, "
        "currency, status, resolved_at) VALUES ($1, $2, NULLIF($3, ''), $4, $5, $6, 'succeeded', now()) "
        "RETURNING id", invoice_id, gateway, gateway_reference, key, amount, currency)[0].as<std::int64_t>();
    out.invoice_paid = paid_before + amount + credit >= total;
    tx.exec_params0("UPDATE invoices SET amount_paid = amount_paid + $2, "
                    "status = CASE WHEN $3 THEN 'paid' ELSE status END, "
                    "paid_at = CASE WHEN $3 AND paid_at IS NULL THEN now() ELSE paid_at END "
                    "WHERE id = $1", invoice_id, amount, out.invoice_paid);
    const auto txn = tx.exec_params1(
        "INSERT INTO ledger_transactions (kind, reference, idempotency_key, description) "
        "VALUES ('payment.succeeded', 'payment:' || $1::bigint, $2 || ':ledger', "
        "'payment of invoice ' || $3::bigint) RETURNING id", out.payment_id, key, invoice_id)[0].as<std::int64_t>();
    tx.exec_params0(
        "INSERT INTO ledger_entries (transaction_id, account_id, amount, currency) "
        "SELECT $1, a.id, e.amount, $4 FROM (VALUES (1, 'gateway_clearing', $2::bigint), "
        "  (2, 'receivable', -($2::bigint - $3::bigint)), (3, 'client_credit', -$3::bigint)) "
        "  AS e(ord, account, amount) JOIN ledger_accounts a ON a.code = e.account "
        " WHERE e.amount <> 0 ORDER BY e.ord", txn, amount, out.overpaid, currency);
    if (out.overpaid > 0)
        tx.exec_params0("INSERT INTO credits (client_id, currency, amount, kind, invoice_id, "
                        "ledger_transaction_id, idempotency_key, description) "
                        "VALUES ($1, $2, $3, 'overpayment', $4, $5, $6 || ':overpayment', "
                        "'overpayment of invoice ' || $4::bigint)",
                        client, currency, out.overpaid, invoice_id, txn, key);
    return out;
}

}  // namespace artistsaid::billing
