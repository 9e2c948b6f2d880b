#include "plugins/billing/credit_note_issuer.hpp"

#include <pqxx/pqxx>

#include "engine/core/error.hpp"
#include "engine/store/database.hpp"
#include "plugins/billing/credit_note_split.hpp"

namespace artistsaid::billing {
namespace {

IssuedCreditNote read_note(pqxx::transaction_base& tx, std::int64_t id) {
    auto r = tx.exec_params1(
        "SELECT n.id, n.number, n.currency, n.subtotal, n.tax, n.total, n.status, i.status "
        "FROM credit_notes n JOIN invoices i ON i.id = n.invoice_id WHERE n.id = $1",
        id);
    IssuedCreditNote note;
    note.id = r[0].as<std::int64_t>();
    note.number = r[1].as<std::string>();
    note.currency = r[2].as<std::string>();
    note.subtotal = r[3].as<std::int64_t>();
    note.tax = r[4].as<std::int64_t>();
    note.total = r[5].as<std::int64_t>();
    note.status = r[6].as<std::string>();
    note.invoice_status = r[7].as<std::string>();
    return note;
}

const char* kind_of(CreditNoteTarget target) {
    switch (target) {
        case CreditNoteTarget::kRefund:
            return "refund";
        case CreditNoteTarget::kClientCredit:
            return "client_credit";
        case CreditNoteTarget::kInvoice:
            return "invoice";
    }
    return "refund";
}

}  // namespace

std::int64_t CreditNoteIssuer::creditable(pqxx::transaction_base& tx, std::int64_t invoice_id) {
    constexpr const char* kSql =
        "SELECT i.total"
        "     - coalesce((SELECT sum(total) FROM credit_notes"
        "                  WHERE invoice_id = i.id AND status <> 'void'), 0)"
        "     - coalesce((SELECT sum(r.amount) FROM refunds r"
        "                   JOIN payments p ON p.id = r.payment_id"
        "                  WHERE p.invoice_id = i.id AND r.kind = 'invoice'"
        "                    AND r.status IN ('unknown', 'pending')), 0)"
        "  FROM invoices i WHERE i.id = $1";
    return tx.exec_params1(kSql, invoice_id)[0].as<std::int64_t>();
}

IssuedCreditNote CreditNoteIssuer::issue(pqxx::transaction_base& tx, const CreditNoteRequest& q) {
    if (q.idempotency_key.empty()) throw InputError("a credit note needs an idempotency key");
    if (q.amount <= 0) throw InputError("a credit note amount must be positive");
    auto seen = tx.exec_params("SELECT id, invoice_id FROM credit_notes WHERE idempotency_key = $1",
                               q.idempotency_key);
    if (!seen.empty()) {
        if (seen[0][1].as<std::int64_t>() != q.invoice_id)
            throw InputError("credit note key '" + q.idempotency_key + "' was used for invoice " +
                             seen[0][1].as<std::string>());
        auto note = read_note(tx, seen[0][0].as<std::int64_t>());
        note.duplicate = true;
        return note;
    }
    auto inv = tx.exec_params(
        "SELECT client_id, currency, status, total, tax, credit_applied, amount_paid, "
        "coalesce(number, '') FROM invoices WHERE id = $1 FOR UPDATE",
        q.invoice_id);
    if (inv.empty())
        throw InputError("no invoice " + std::to_string(q.invoice_id), ErrorCode::kNotFound);
    const auto client = inv[0][0].as<std::int64_t>();
    const std::string currency = inv[0][1].as<std::string>();
    const std::string status = inv[0][2].as<std::string>();
    const auto total = inv[0][3].as<std::int64_t>();
    const auto tax = inv[0][4].as<std::int64_t>();
    const auto due = total - inv[0][5].as<std::int64_t>() - inv[0][6].as<std::int64_t>();
    const std::string what = "invoice " + std::to_string(q.invoice_id);
    if (status != "unpaid" && status != "paid" && status != "refunded")
        throw InputError(what + " is " + status + ": only issued invoices can be credited");
    const auto left = creditable(tx, q.invoice_id);
    if (q.amount > left)
        throw InputError("a credit note of " + std::to_string(q.amount) + " exceeds the " +
                         std::to_string(left) + " left to credit on " + what + " (total " +
                         std::to_string(total) + ")");
    if (q.target == CreditNoteTarget::kInvoice && (status != "unpaid" || q.amount > due))
        throw InputError(what + " is " + status + " with " + std::to_string(due) +
                         " due: a credit note on its balance must not exceed what is due "
                         "(credit the client's balance instead)");
    const auto credited =
        tx.exec_params1("SELECT coalesce(sum(total), 0) FROM credit_notes "
                        "WHERE invoice_id = $1 AND status <> 'void'",
                        q.invoice_id)[0]
            .as<std::int64_t>();
    const auto split = split_credit_note(total, tax, credited, q.amount);

    const std::string number =
        tx.exec1(
              "UPDATE document_counters SET next_value = next_value + 1 WHERE name = 'credit_note' "
              "RETURNING prefix || lpad((next_value - 1)::text, 8, '0')")[0]
            .as<std::string>();
    const bool refund = q.target == CreditNoteTarget::kRefund;
    const auto id =
        tx.exec_params1(
              "INSERT INTO credit_notes (client_id, invoice_id, number, currency, subtotal, tax, "
              "total, reason, status, kind, idempotency_key) "
              "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
              client, q.invoice_id, number, currency, split.subtotal, split.tax, q.amount, q.reason,
              refund ? "refunded" : "applied", kind_of(q.target), q.idempotency_key)[0]
            .as<std::int64_t>();
    const bool to_credit = q.target == CreditNoteTarget::kClientCredit;
    const auto txn =
        tx.exec_params1(
              "INSERT INTO ledger_transactions (kind, reference, idempotency_key, description) "
              "VALUES ('credit_note.issued', 'credit_note:' || $1::bigint, $2 || ':credit_note', "
              "'credit note ' || $3 || ' of ' || $4) RETURNING id",
              id, q.idempotency_key, number, what)[0]
            .as<std::int64_t>();
    tx.exec_params0(
        "INSERT INTO ledger_entries (transaction_id, account_id, amount, currency) "
        "SELECT $1, a.id, e.amount, $5 FROM (VALUES (1, 'revenue', $2::bigint), "
        "  (2, 'tax_payable', $3::bigint), (3, $6, -$4::bigint)) AS e(ord, account, amount) "
        "  JOIN ledger_accounts a ON a.code = e.account WHERE e.amount <> 0 ORDER BY e.ord",
        txn, split.subtotal, split.tax, q.amount, currency,
        to_credit ? "client_credit" : "receivable");
    if (to_credit) {
        tx.exec_params0(
            "INSERT INTO credits (client_id, currency, amount, kind, invoice_id, credit_note_id, "
            "ledger_transaction_id, idempotency_key, description) VALUES ($1, $2, $3, "
            "'credit_note', $4, $5, $6, $7 || ':credit', 'credit note ' || $8)",
            client, currency, q.amount, q.invoice_id, id, txn, q.idempotency_key, number);
    } else if (q.target == CreditNoteTarget::kInvoice) {
        tx.exec_params0(
            "INSERT INTO invoice_items (invoice_id, kind, description, quantity, unit_amount, "
            "amount, taxable, sort_order) VALUES ($1, 'credit_applied', 'Credit note ' || $2, 1, "
            "-$3::bigint, -$3::bigint, false, 21)",
            q.invoice_id, number, q.amount);
        tx.exec_params0(
            "UPDATE invoices SET credit_applied = credit_applied + $2, updated_at = now(), "
            "status = CASE WHEN amount_paid + credit_applied + $2 >= total THEN 'paid' "
            "ELSE status END, paid_at = CASE WHEN amount_paid + credit_applied + $2 >= total "
            "THEN coalesce(paid_at, now()) ELSE paid_at END WHERE id = $1",
            q.invoice_id, q.amount);
    }
    return read_note(tx, id);
}

IssuedCreditNote CreditNoteIssuer::issue_now(pqxx::connection& conn,
                                             const CreditNoteRequest& request) {
    try {
        pqxx::work tx(conn);
        auto note = issue(tx, request);
        tx.commit();
        return note;
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        store::throw_from_pqxx("issuing a credit note");
    }
}

nlohmann::json CreditNoteIssuer::to_json(const IssuedCreditNote& note, std::int64_t invoice_id) {
    return {{"credit_note_id", note.id},
            {"number", note.number},
            {"invoice_id", invoice_id},
            {"currency", note.currency},
            {"subtotal", note.subtotal},
            {"tax", note.tax},
            {"total", note.total},
            {"status", note.status},
            {"invoice_status", note.invoice_status},
            {"replayed", note.duplicate}};
}

}  // namespace artistsaid::billing
