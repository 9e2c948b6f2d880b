#include "plugins/billing/payment_recorder.hpp"

#include <algorithm>

#include "engine/core/error.hpp"

namespace artistsaid::billing {
namespace {

// The ledger transaction 'payment:<id>' of one payment, its entries, its overpayment credit,
// and the payment's link to the posting (payments.ledger_transaction_id, migration 0020), in
// the caller's transaction. The link is only set on a payment not posted yet: a second
// posting fails the transaction instead of counting the payment twice.
void post_payment(pqxx::transaction_base& tx, std::int64_t payment_id, std::int64_t invoice_id,
                  std::int64_t client, std::int64_t amount, std::int64_t overpaid,
                  const std::string& currency, const std::string& key) {
    const auto txn = tx.exec_params1(
        "INSERT INTO ledger_transactions (kind, reference, idempotency_key, description) "
        "VALUES ('payment.succeeded', 'payment:' || $1::bigint, $2 || ':ledger', "
        "'payment of invoice ' || $3::bigint) RETURNING id", payment_id, key, invoice_id)[0].as<std::int64_t>();
    tx.exec_params0(
        "INSERT INTO ledger_entries (transaction_id, account_id, amount, currency) "
        "SELECT $1, a.id, e.amount, $4 FROM (VALUES (1, 'gateway_clearing', $2::bigint), "
        "  (2, 'receivable', -($2::bigint - $3::bigint)), (3, 'client_credit', -$3::bigint)) "
        "  AS e(ord, account, amount) JOIN ledger_accounts a ON a.code = e.account "
        " WHERE e.amount <> 0 ORDER BY e.ord", txn, amount, overpaid, currency);
    if (overpaid > 0)
        tx.exec_params0("INSERT INTO credits (client_id, currency, amount, kind, invoice_id, "
                        "ledger_transaction_id, idempotency_key, description) "
                        "VALUES ($1, $2, $3, 'overpayment', $4, $5, $6 || ':overpayment', "
                        "'overpayment of invoice ' || $4::bigint)",
                        client, currency, overpaid, invoice_id, txn, key);
    if (tx.exec_params("UPDATE payments SET ledger_transaction_id = $2 WHERE id = $1 AND "
                       "ledger_transaction_id IS NULL RETURNING id", payment_id, txn).empty())
        throw WorkError("payment " + std::to_string(payment_id) + " is posted already");
}

}  // namespace

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
    post_payment(tx, out.payment_id, invoice_id, client, amount, out.overpaid, currency, key);
    return out;
}

RecordedPayment PaymentRecorder::record_resolved(pqxx::transaction_base& tx,
                                                 std::int64_t payment_id) {
    RecordedPayment out;
    out.payment_id = payment_id;
    auto pay = tx.exec_params("SELECT invoice_id, amount, currency, status, idempotency_key "
                              "FROM payments WHERE id = $1", payment_id);
    if (pay.empty()) throw InputError("no payment " + std::to_string(payment_id), ErrorCode::kNotFound);
    if (pay[0][3].as<std::string>() != "succeeded")
        throw InputError("payment " + std::to_string(payment_id) + " is " + pay[0][3].as<std::string>());
    const auto invoice_id = pay[0][0].as<std::int64_t>();
    const auto amount = pay[0][1].as<std::int64_t>();
    const std::string currency = pay[0][2].as<std::string>();
    const std::string key = pay[0][4].as<std::string>();
    auto inv = tx.exec_params("SELECT client_id, status, total, credit_applied, amount_paid "
                              "FROM invoices WHERE id = $1 FOR UPDATE", invoice_id);
    // Posted already (by this path or a batch)? Read after the invoice's lock: a concurrent
    // posting of the payment has committed by now.
    if (tx.exec_params1("SELECT ledger_transaction_id IS NOT NULL FROM payments WHERE id = $1",
                        payment_id)[0].as<bool>()) {
        out.duplicate = true;
        out.invoice_paid = inv[0][1].as<std::string>() == "paid";
        return out;
    }
    const auto client = inv[0][0].as<std::int64_t>();
    const std::string status = inv[0][1].as<std::string>();
    const auto total = inv[0][2].as<std::int64_t>();
    const auto credit = inv[0][3].as<std::int64_t>();
    const auto paid_before = inv[0][4].as<std::int64_t>();
    // Money that arrived for an invoice no longer collectable (cancelled meanwhile) is the
    // client's: all of it becomes credit.
    const bool collectable = status == "unpaid" || status == "paid";
    const std::int64_t due_before =
        collectable ? std::max<std::int64_t>(0, total - credit - paid_before) : 0;
    out.overpaid = std::max<std::int64_t>(0, amount - due_before);
    out.invoice_paid = collectable && paid_before + amount + credit >= total;
    tx.exec_params0("UPDATE invoices SET amount_paid = amount_paid + $2, "
                    "status = CASE WHEN $3 THEN 'paid' ELSE status END, "
                    "paid_at = CASE WHEN $3 AND paid_at IS NULL THEN now() ELSE paid_at END "
                    "WHERE id = $1", invoice_id, amount, out.invoice_paid);
    post_payment(tx, payment_id, invoice_id, client, amount, out.overpaid, currency, key);
    return out;
}

}  // namespace artistsaid::billing
