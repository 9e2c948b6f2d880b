#include "plugins/billing/refund_recorder.hpp"

#include <pqxx/pqxx>

#include "engine/core/error.hpp"

namespace artistsaid::billing {

RecordedRefund RefundRecorder::record_resolved(pqxx::transaction_base& tx, std::int64_t refund_id) {
    auto r = tx.exec_params(
        "SELECT r.amount, r.currency, r.status, r.idempotency_key, r.reason, p.invoice_id, "
        "r.credit_note_id, r.kind FROM refunds r JOIN payments p ON p.id = r.payment_id "
        "WHERE r.id = $1 FOR UPDATE OF r",
        refund_id);
    if (r.empty()) throw InputError("no refund " + std::to_string(refund_id), ErrorCode::kNotFound);
    if (r[0][7].as<std::string>() != "invoice")
        throw InputError("refund " + std::to_string(refund_id) +
                         " refunds client credit: it has no credit note (CreditRefundRecorder)");
    if (r[0][2].as<std::string>() != "succeeded")
        throw InputError("refund " + std::to_string(refund_id) + " is " +
                         r[0][2].as<std::string>());
    const auto amount = r[0][0].as<std::int64_t>();
    const std::string currency = r[0][1].as<std::string>();
    const std::string key = r[0][3].as<std::string>();
    const auto invoice_id = r[0][5].as<std::int64_t>();

    RecordedRefund out;
    CreditNoteRequest note;
    note.invoice_id = invoice_id;
    note.amount = amount;
    note.reason = r[0][4].as<std::string>();
    note.target = CreditNoteTarget::kRefund;
    note.idempotency_key = key;
    const auto posted = tx.exec_params(
        "SELECT 1 FROM ledger_transactions WHERE reference = 'refund:' || $1::bigint", refund_id);
    if (!posted.empty()) {
        out.duplicate = true;
        out.credit_note = CreditNoteIssuer::issue(tx, note);  // returns the note issued then
        return out;
    }
    out.credit_note = CreditNoteIssuer::issue(tx, note);
    const auto txn =
        tx.exec_params1(
              "INSERT INTO ledger_transactions (kind, reference, idempotency_key, description) "
              "VALUES ('refund.succeeded', 'refund:' || $1::bigint, $2 || ':ledger', "
              "'refund of invoice ' || $3::bigint) RETURNING id",
              refund_id, key, invoice_id)[0]
            .as<std::int64_t>();
    tx.exec_params0(
        "INSERT INTO ledger_entries (transaction_id, account_id, amount, currency) "
        "SELECT $1, a.id, e.amount, $3 FROM (VALUES (1, 'receivable', $2::bigint), "
        "  (2, 'gateway_clearing', -$2::bigint)) AS e(ord, account, amount) "
        "  JOIN ledger_accounts a ON a.code = e.account ORDER BY e.ord",
        txn, amount, currency);
    tx.exec_params0("UPDATE refunds SET credit_note_id = $2, updated_at = now() WHERE id = $1",
                    refund_id, out.credit_note.id);
    tx.exec_params0(
        "UPDATE invoices i SET status = 'refunded', updated_at = now() WHERE i.id = $1 AND "
        "i.status = 'paid' AND i.amount_paid > 0 AND i.amount_paid - (SELECT coalesce(sum("
        "c.amount), 0) FROM credits c WHERE c.invoice_id = i.id AND c.kind = 'overpayment') "
        "<= (SELECT coalesce(sum("
        "r.amount), 0) FROM refunds r JOIN payments p ON p.id = r.payment_id WHERE "
        "p.invoice_id = i.id AND r.kind = 'invoice' AND r.status = 'succeeded')",
        invoice_id);
    out.credit_note.invoice_status =
        tx.exec_params1("SELECT status FROM invoices WHERE id = $1", invoice_id)[0]
            .as<std::string>();
    return out;
}

}  // namespace artistsaid::billing
