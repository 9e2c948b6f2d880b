#include "plugins/billing/credit_note_voider.hpp"

#include <pqxx/pqxx>

#include "engine/core/error.hpp"
#include "engine/core/money.hpp"
#include "engine/store/database.hpp"

namespace artistsaid::billing {
namespace {

nlohmann::json describe(pqxx::transaction_base& tx, std::int64_t id) {
    auto r = tx.exec_params1(
        "SELECT n.id, n.number, n.kind, n.invoice_id, n.currency, n.subtotal, n.tax, n.total, "
        "n.status, coalesce(to_char(n.voided_at AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''), coalesce(n.void_reason, ''), i.status, "
        "coalesce(b.balance, 0) FROM credit_notes n JOIN invoices i ON i.id = n.invoice_id "
        "LEFT JOIN client_credit_balances b ON b.client_id = n.client_id AND "
        "b.currency = n.currency WHERE n.id = $1",
        id);
    return {{"credit_note_id", r[0].as<std::int64_t>()},
            {"number", r[1].as<std::string>()},
            {"kind", r[2].as<std::string>()},
            {"invoice_id", r[3].as<std::int64_t>()},
            {"currency", r[4].as<std::string>()},
            {"subtotal", r[5].as<std::int64_t>()},
            {"tax", r[6].as<std::int64_t>()},
            {"total", r[7].as<std::int64_t>()},
            {"status", r[8].as<std::string>()},
            {"voided_at", r[9].as<std::string>()},
            {"void_reason", r[10].as<std::string>()},
            {"invoice_status", r[11].as<std::string>()},
            {"credit_balance", r[12].as<std::int64_t>()},
            {"already_void", false},
            {"message", ""}};
}

std::string format(std::int64_t minor, const std::string& currency) {
    return Money(minor, Currency::from_code(currency)).to_string();
}

}  // namespace

nlohmann::json CreditNoteVoider::void_note(pqxx::transaction_base& tx, const std::string& number,
                                           const std::string& reason) {
    auto found =
        tx.exec_params("SELECT id, invoice_id FROM credit_notes WHERE number = $1", number);
    if (found.empty()) throw InputError("no credit note " + number, ErrorCode::kNotFound);
    const auto id = found[0][0].as<std::int64_t>();
    const auto invoice_id = found[0][1].as<std::int64_t>();
    auto inv = tx.exec_params1(
        "SELECT status, coalesce(number, '') FROM invoices WHERE id = $1 FOR UPDATE", invoice_id);
    auto n = tx.exec_params1(
        "SELECT kind, status, client_id, currency, subtotal, tax, total FROM credit_notes "
        "WHERE id = $1 FOR UPDATE",
        id);
    const std::string kind = n[0].as<std::string>();
    const std::string status = n[1].as<std::string>();
    const auto client = n[2].as<std::int64_t>();
    const std::string currency = n[3].as<std::string>();
    const auto subtotal = n[4].as<std::int64_t>();
    const auto tax = n[5].as<std::int64_t>();
    const auto total = n[6].as<std::int64_t>();
    const std::string invoice_status = inv[0].as<std::string>();
    const std::string invoice =
        "invoice " +
        (inv[1].as<std::string>().empty() ? std::to_string(invoice_id) : inv[1].as<std::string>());
    if (status == "void") {
        auto out = describe(tx, id);
        out["already_void"] = true;
        out["message"] = "credit note " + number + " was already void: nothing changed";
        return out;
    }
    if (kind == "refund") {
        auto refund = tx.exec_params(
            "SELECT id FROM refunds WHERE credit_note_id = $1 ORDER BY id LIMIT 1", id);
        throw InputError("credit note " + number + " records " +
                         (refund.empty() ? std::string("a refund")
                                         : "refund " + refund[0][0].as<std::string>()) +
                         ": its money went back to the client through the gateway, so it "
                         "cannot be voided");
    }
    if (kind == "invoice" && invoice_status != "unpaid")
        throw InputError("credit note " + number + " reduced the balance of " + invoice +
                         ", which is now " + invoice_status +
                         ": only a credit note on an invoice still open (unpaid) can be voided");
    if (kind == "client_credit") {
        auto b = tx.exec_params(
            "SELECT balance FROM client_credit_balances WHERE client_id = $1 AND currency = $2 "
            "FOR UPDATE",
            client, currency);
        const std::int64_t balance = b.empty() ? 0 : b[0][0].as<std::int64_t>();
        if (balance < total)
            throw InputError("credit note " + number + " put " + format(total, currency) +
                             " on client " + std::to_string(client) + "'s credit, but only " +
                             format(balance, currency) +
                             " of that credit is left (used on invoices or refunded): it "
                             "cannot be voided");
    }

    const auto txn =
        tx.exec_params1(
              "INSERT INTO ledger_transactions (kind, reference, idempotency_key, description) "
              "VALUES ('credit_note.voided', 'credit_note_void:' || $1::bigint, "
              "'credit_note_void:' || $1::bigint, 'void of credit note ' || $2 || ' of ' || $3) "
              "RETURNING id",
              id, number, invoice)[0]
            .as<std::int64_t>();
    const bool to_credit = kind == "client_credit";
    tx.exec_params0(
        "INSERT INTO ledger_entries (transaction_id, account_id, amount, currency) "
        "SELECT $1, a.id, e.amount, $5 FROM (VALUES (1, 'revenue', -$2::bigint), "
        "  (2, 'tax_payable', -$3::bigint), (3, $6, $4::bigint)) AS e(ord, account, amount) "
        "  JOIN ledger_accounts a ON a.code = e.account WHERE e.amount <> 0 ORDER BY e.ord",
        txn, subtotal, tax, total, currency, to_credit ? "client_credit" : "receivable");
    if (to_credit) {
        tx.exec_params0(
            "INSERT INTO credits (client_id, currency, amount, kind, invoice_id, credit_note_id, "
            "ledger_transaction_id, idempotency_key, description) VALUES ($1, $2, -$3::bigint, "
            "'credit_note', $4, $5, $6, 'credit_note:' || $5::bigint || ':void', "
            "'void of credit note ' || $7)",
            client, currency, total, invoice_id, id, txn, number);
    } else {
        tx.exec_params0(
            "INSERT INTO invoice_items (invoice_id, kind, description, quantity, unit_amount, "
            "amount, taxable, sort_order) VALUES ($1, 'credit_applied', 'Void of credit note ' "
            "|| $2, 1, $3::bigint, $3::bigint, false, 22)",
            invoice_id, number, total);
        tx.exec_params0(
            "UPDATE invoices SET credit_applied = credit_applied - $2, updated_at = now() "
            "WHERE id = $1",
            invoice_id, total);
    }
    tx.exec_params0(
        "UPDATE credit_notes SET status = 'void', voided_at = now(), void_reason = $2 "
        "WHERE id = $1",
        id, reason);
    auto out = describe(tx, id);
    out["message"] = "credit note " + number + " voided";
    return out;
}

nlohmann::json CreditNoteVoider::void_now(pqxx::connection& conn, const std::string& number,
                                          const std::string& reason) {
    try {
        pqxx::work tx(conn);
        auto out = void_note(tx, number, reason);
        tx.commit();
        return out;
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        store::throw_from_pqxx("voiding credit note " + number);
    }
}

}  // namespace artistsaid::billing
