#include "plugins/billing/credit_refund_recorder.hpp"

#include <pqxx/pqxx>
#include <string>

#include "engine/core/error.hpp"

namespace artistsaid::billing {
namespace {

struct CreditRefund {
    std::int64_t amount = 0;
    std::int64_t client_id = 0;
    std::string currency, status, key;
};

CreditRefund locked(pqxx::transaction_base& tx, std::int64_t refund_id) {
    auto r = tx.exec_params(
        "SELECT r.amount, i.client_id, r.currency, r.status, r.idempotency_key, r.kind "
        "FROM refunds r JOIN payments p ON p.id = r.payment_id "
        "JOIN invoices i ON i.id = p.invoice_id WHERE r.id = $1 FOR UPDATE OF r",
        refund_id);
    if (r.empty()) throw InputError("no refund " + std::to_string(refund_id), ErrorCode::kNotFound);
    if (r[0][5].as<std::string>() != "client_credit")
        throw InputError("refund " + std::to_string(refund_id) + " is not a credit refund");
    return {r[0][0].as<std::int64_t>(), r[0][1].as<std::int64_t>(), r[0][2].as<std::string>(),
            r[0][3].as<std::string>(), r[0][4].as<std::string>()};
}

bool posted(pqxx::transaction_base& tx, const std::string& reference) {
    return !tx.exec_params("SELECT 1 FROM ledger_transactions WHERE reference = $1", reference)
                .empty();
}

// One balanced transaction: `debit` +amount / `credit` -amount.
std::int64_t post(pqxx::transaction_base& tx, const char* kind, const std::string& reference,
                  const std::string& key, const std::string& description, const char* debit,
                  const char* credit, std::int64_t amount, const std::string& currency) {
    const auto txn = tx.exec_params1(
                           "INSERT INTO ledger_transactions (kind, reference, idempotency_key, "
                           "description) VALUES ($1, $2, $3, $4) RETURNING id",
                           kind, reference, key, description)[0]
                         .as<std::int64_t>();
    tx.exec_params0(
        "INSERT INTO ledger_entries (transaction_id, account_id, amount, currency) "
        "SELECT $1, a.id, e.amount, $5 FROM (VALUES (1, $2, $4::bigint), (2, $3, -$4::bigint)) "
        "AS e(ord, account, amount) JOIN ledger_accounts a ON a.code = e.account ORDER BY e.ord",
        txn, debit, credit, amount, currency);
    return txn;
}

}  // namespace

bool CreditRefundRecorder::is_credit_refund(pqxx::transaction_base& tx, std::int64_t refund_id) {
    auto r = tx.exec_params("SELECT kind = 'client_credit' FROM refunds WHERE id = $1", refund_id);
    return !r.empty() && r[0][0].as<bool>();
}

void CreditRefundRecorder::reserve(pqxx::transaction_base& tx, std::int64_t refund_id) {
    const auto r = locked(tx, refund_id);
    if (r.status != "unknown")
        throw InputError("refund " + std::to_string(refund_id) + " is " + r.status +
                         ": only a new credit refund is reserved");
    const std::string id = std::to_string(refund_id);
    if (posted(tx, "credit_refund:" + id)) return;
    const auto txn = post(tx, "credit_refund.reserved", "credit_refund:" + id, r.key + ":reserve",
                          "credit refund " + id + " in flight", "client_credit", "refunds",
                          r.amount, r.currency);
    tx.exec_params0(
        "INSERT INTO credits (client_id, currency, amount, kind, ledger_transaction_id, "
        "idempotency_key, description) VALUES ($1, $2, -$3::bigint, 'refund', $4, $5 || "
        "':credit', 'refund of credit (refund ' || $6 || ')')",
        r.client_id, r.currency, r.amount, txn, r.key, id);
}

bool CreditRefundRecorder::record_succeeded(pqxx::transaction_base& tx, std::int64_t refund_id) {
    const auto r = locked(tx, refund_id);
    if (r.status != "succeeded")
        throw InputError("refund " + std::to_string(refund_id) + " is " + r.status);
    const std::string id = std::to_string(refund_id);
    if (posted(tx, "refund:" + id)) return false;
    post(tx, "refund.succeeded", "refund:" + id, r.key + ":ledger",
         "refund of client credit (refund " + id + ")", "refunds", "gateway_clearing", r.amount,
         r.currency);
    return true;
}

bool CreditRefundRecorder::record_failed(pqxx::transaction_base& tx, std::int64_t refund_id) {
    const auto r = locked(tx, refund_id);
    if (r.status != "failed")
        throw InputError("refund " + std::to_string(refund_id) + " is " + r.status);
    const std::string id = std::to_string(refund_id);
    if (posted(tx, "credit_refund_release:" + id)) return false;
    const auto txn = post(tx, "credit_refund.released", "credit_refund_release:" + id,
                          r.key + ":release", "credit refund " + id + " failed: credit restored",
                          "refunds", "client_credit", r.amount, r.currency);
    tx.exec_params0(
        "INSERT INTO credits (client_id, currency, amount, kind, ledger_transaction_id, "
        "idempotency_key, description) VALUES ($1, $2, $3, 'refund', $4, $5 || "
        "':credit_release', 'credit refund ' || $6 || ' failed: credit restored')",
        r.client_id, r.currency, r.amount, txn, r.key, id);
    return true;
}

}  // namespace artistsaid::billing
