#include "plugins/payments/refund_issuer.hpp"

#include <algorithm>
#include <pqxx/pqxx>

#include "engine/core/error.hpp"
#include "engine/core/logging.hpp"
#include "plugins/billing/credit_note_issuer.hpp"
#include "plugins/billing/refund_recorder.hpp"
#include "plugins/payments/refund_call.hpp"

namespace artistsaid::payments {
namespace {

template <class T>
nlohmann::json nullable_json(const pqxx::field& field) {
    return field.is_null() ? nlohmann::json() : nlohmann::json(field.as<T>());
}

nlohmann::json refund_outputs(pqxx::transaction_base& tx, const std::string& key) {
    auto r = tx.exec_params(
        "SELECT r.id, r.payment_id, p.invoice_id, r.status, r.amount, r.currency, p.gateway, "
        "coalesce(r.error, ''), r.credit_note_id, n.number, i.status FROM refunds r "
        "JOIN payments p ON p.id = r.payment_id JOIN invoices i ON i.id = p.invoice_id "
        "LEFT JOIN credit_notes n ON n.id = r.credit_note_id WHERE r.idempotency_key = $1",
        key);
    if (r.empty()) return nullptr;
    const auto& row = r[0];
    return {{"refund_id", row[0].as<std::int64_t>()},
            {"payment_id", row[1].as<std::int64_t>()},
            {"invoice_id", row[2].as<std::int64_t>()},
            {"status", row[3].as<std::string>()},
            {"amount", row[4].as<std::int64_t>()},
            {"currency", row[5].as<std::string>()},
            {"gateway", row[6].as<std::string>()},
            {"error", row[7].as<std::string>()},
            {"credit_note_id", nullable_json<std::int64_t>(row[8])},
            {"credit_note_number", nullable_json<std::string>(row[9])},
            {"invoice_status", row[10].as<std::string>()},
            {"refunded", false},
            {"replayed", false}};
}

// What is left to refund of a locked payment: its amount, less what of it became credit,
// less its refunds that succeeded or may still succeed (credit refunds of the overpayment,
// payments.refund_credit, are bounded by the overpayment instead).
constexpr const char* kRefundableSql =
    "SELECT p.amount - coalesce((SELECT sum(c.amount) FROM credits c WHERE c.idempotency_key = "
    "p.idempotency_key || ':overpayment'), 0) - coalesce((SELECT sum(r.amount) FROM refunds r "
    "WHERE r.payment_id = p.id AND r.kind = 'invoice' "
    "AND r.status IN ('succeeded', 'pending', 'unknown')), 0) FROM payments p WHERE p.id = $1";

struct Target {
    std::int64_t payment_id = 0;
    std::int64_t invoice_id = 0;
    std::int64_t amount = 0;
    std::string currency, gateway, charge_reference;
};

// Locks the payment(s) and the invoice, and chooses what to refund. InputError if nothing fits.
Target choose(pqxx::work& tx, const RefundOptions& o) {
    pqxx::result payments;
    if (o.payment_id > 0) {
        payments = tx.exec_params(
            "SELECT id, invoice_id, status, currency, gateway, coalesce(gateway_reference, '') "
            "FROM payments WHERE id = $1 FOR UPDATE",
            o.payment_id);
        if (payments.empty())
            throw InputError("no payment " + std::to_string(o.payment_id), ErrorCode::kNotFound);
        if (payments[0][2].as<std::string>() != "succeeded")
            throw InputError("payment " + std::to_string(o.payment_id) + " is " +
                             payments[0][2].as<std::string>() +
                             ": only a succeeded payment "
                             "can be refunded");
    } else {
        if (tx.exec_params("SELECT 1 FROM invoices WHERE id = $1", o.invoice_id).empty())
            throw InputError("no invoice " + std::to_string(o.invoice_id), ErrorCode::kNotFound);
        payments = tx.exec_params(
            "SELECT id, invoice_id, status, currency, gateway, coalesce(gateway_reference, '') "
            "FROM payments WHERE invoice_id = $1 AND status = 'succeeded' ORDER BY id DESC "
            "FOR UPDATE",
            o.invoice_id);
        if (payments.empty())
            throw InputError("invoice " + std::to_string(o.invoice_id) +
                             " has no succeeded payment to refund");
    }
    const auto invoice_id = payments[0][1].as<std::int64_t>();
    tx.exec_params("SELECT 1 FROM invoices WHERE id = $1 FOR UPDATE", invoice_id);
    const auto creditable = billing::CreditNoteIssuer::creditable(tx, invoice_id);
    std::int64_t best = 0;
    for (const auto& p : payments) {
        const auto refundable = std::min(
            creditable,
            tx.exec_params1(kRefundableSql, p[0].as<std::int64_t>())[0].as<std::int64_t>());
        best = std::max(best, refundable);
        const auto amount = o.amount.value_or(refundable);
        if (refundable <= 0 || amount > refundable) continue;
        if (p[5].as<std::string>().empty())
            throw InputError("payment " + p[0].as<std::string>() +
                             " has no gateway reference: "
                             "it cannot be refunded through " +
                             p[4].as<std::string>());
        return {p[0].as<std::int64_t>(),
                invoice_id,
                amount,
                p[3].as<std::string>(),
                p[4].as<std::string>(),
                p[5].as<std::string>()};
    }
    const std::string what = o.payment_id > 0 ? "payment " + std::to_string(o.payment_id)
                                              : "invoice " + std::to_string(o.invoice_id);
    if (best <= 0) throw InputError(what + " has nothing left to refund");
    throw InputError("a refund of " + std::to_string(*o.amount) + " exceeds the " +
                     std::to_string(best) + " refundable on " + what +
                     (o.payment_id > 0 ? "" : " (by one payment)"));
}

}  // namespace

nlohmann::json RefundIssuer::refund(const RefundOptions& o) const {
    if ((o.payment_id > 0) == (o.invoice_id > 0))
        throw InputError("payments.refund: give exactly one of payment_id and invoice_id");
    if (o.amount && *o.amount <= 0) throw InputError("payments.refund: amount must be positive");
    if (o.idempotency_key.empty()) throw InputError("payments.refund: no idempotency key");
    {
        auto conn = context_.connect();
        pqxx::read_transaction tx(*conn);
        auto seen = refund_outputs(tx, o.idempotency_key);
        if (!seen.is_null()) {
            if ((o.payment_id > 0 && seen["payment_id"] != o.payment_id) ||
                (o.invoice_id > 0 && seen["invoice_id"] != o.invoice_id))
                throw InputError("refund key '" + o.idempotency_key + "' belongs to refund " +
                                 seen["refund_id"].dump() + " of another payment");
            seen["replayed"] = true;
            return seen;
        }
    }

    // Write-ahead: the refund is in PostgreSQL, holding its share of the payment, before any
    // money can move.
    Target target;
    std::int64_t refund_id = 0;
    {
        auto conn = context_.connect();
        pqxx::work tx(*conn);
        target = choose(tx, o);
        auto r = tx.exec_params(
            "INSERT INTO refunds (payment_id, amount, currency, idempotency_key, status, reason) "
            "VALUES ($1, $2, $3, $4, 'unknown', $5) ON CONFLICT (idempotency_key) DO NOTHING "
            "RETURNING id",
            target.payment_id, target.amount, target.currency, o.idempotency_key, o.reason);
        if (r.empty())
            throw WorkError("refund " + o.idempotency_key + " is being made by another attempt");
        refund_id = r[0][0].as<std::int64_t>();
        tx.commit();
    }

    gateways::RefundRequest request;
    request.idempotency_key = o.idempotency_key;
    request.deadline = o.deadline;
    request.charge_reference = target.charge_reference;
    request.amount = Money(target.amount, Currency::from_code(target.currency));
    request.reason = o.reason;
    request.metadata = {{"invoice_id", std::to_string(target.invoice_id)},
                        {"payment_id", std::to_string(target.payment_id)},
                        {"refund_id", std::to_string(refund_id)}};
    const gateways::GatewayResult result =
        send_refund(context_.gateways(), target.gateway, request);

    auto conn = context_.connect();
    pqxx::work tx(*conn);
    const std::string status = refund_status(result.status);
    std::string error = result.error;
    if (!result.decline_code.empty()) error = result.decline_code + ": " + error;
    // Only a row still unknown is ours to settle: a reconciler may have resolved it meanwhile.
    auto updated = tx.exec_params(
        "UPDATE refunds SET status = $2, gateway_reference = coalesce($3, gateway_reference), "
        "error = NULLIF($4, ''), updated_at = now(), resolved_at = CASE WHEN $2 IN "
        "('succeeded', 'failed') THEN now() END WHERE id = $1 AND status = 'unknown' RETURNING id",
        refund_id, status,
        result.provider_id.empty() ? std::optional<std::string>() : result.provider_id, error);
    if (!updated.empty() && status == "succeeded")
        billing::RefundRecorder::record_resolved(tx, refund_id);
    auto out = refund_outputs(tx, o.idempotency_key);
    tx.commit();
    out["refunded"] = true;
    return out;
}

}  // namespace artistsaid::payments
