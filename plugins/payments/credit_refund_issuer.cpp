#include "plugins/payments/credit_refund_issuer.hpp"

#include <algorithm>
#include <pqxx/pqxx>
#include <vector>

#include "engine/core/error.hpp"
#include "engine/core/logging.hpp"
#include "engine/core/money.hpp"
#include "plugins/billing/credit_refund_recorder.hpp"
#include "plugins/payments/refund_call.hpp"

namespace artistsaid::payments {
namespace {

// The request's rows and totals; null if there are none.
nlohmann::json request_outputs(pqxx::transaction_base& tx, const std::string& key) {
    auto rows = tx.exec_params(
        "SELECT r.id, r.payment_id, p.invoice_id, p.gateway, r.amount, r.status, "
        "coalesce(r.error, ''), i.client_id, r.currency FROM refunds r "
        "JOIN payments p ON p.id = r.payment_id JOIN invoices i ON i.id = p.invoice_id "
        "WHERE r.request_key = $1 AND r.kind = 'client_credit' ORDER BY r.id",
        key);
    if (rows.empty()) return nullptr;
    auto refunds = nlohmann::json::array();
    std::int64_t amount = 0, refunded = 0;
    int succeeded = 0, failed = 0, unknown = 0, pending = 0;
    for (const auto& row : rows) {
        const auto status = row[5].as<std::string>();
        amount += row[4].as<std::int64_t>();
        if (status == "succeeded") {
            ++succeeded;
            refunded += row[4].as<std::int64_t>();
        }
        failed += status == "failed";
        unknown += status == "unknown";
        pending += status == "pending";
        refunds.push_back({{"refund_id", row[0].as<std::int64_t>()},
                           {"payment_id", row[1].as<std::int64_t>()},
                           {"invoice_id", row[2].as<std::int64_t>()},
                           {"gateway", row[3].as<std::string>()},
                           {"amount", row[4].as<std::int64_t>()},
                           {"status", status},
                           {"error", row[6].as<std::string>()}});
    }
    std::string status = "succeeded";
    if (unknown > 0) {
        status = "unknown";
    } else if (pending > 0) {
        status = "pending";
    } else if (failed > 0) {
        status = succeeded > 0 ? "partial" : "failed";
    }
    const auto client = rows[0][7].as<std::int64_t>();
    const auto currency = rows[0][8].as<std::string>();
    const auto balance = tx.exec_params(
        "SELECT balance FROM client_credit_balances WHERE client_id = $1 AND currency = $2", client,
        currency);
    return {{"client_id", client},
            {"currency", currency},
            {"amount", amount},
            {"status", status},
            {"refunded_amount", refunded},
            {"refunds", refunds},
            {"credit_balance", balance.empty() ? 0 : balance[0][0].as<std::int64_t>()},
            {"refunded", false},
            {"replayed", false}};
}

std::string format(std::int64_t minor, const std::string& currency) {
    return Money(minor, Currency::from_code(currency)).to_string();
}

struct Slice {
    std::int64_t refund_id = 0;
    std::int64_t payment_id = 0;
    std::int64_t invoice_id = 0;
    std::int64_t amount = 0;
    std::string gateway, charge_reference, key;
};

// Under the balance row's lock: checks the request and writes its rows (reserved, unknown).
// Returns no slices if the key was used meanwhile (the caller reports that request).
std::vector<Slice> write_ahead(pqxx::work& tx, const CreditRefundOptions& o) {
    if (tx.exec_params("SELECT 1 FROM clients WHERE id = $1", o.client_id).empty())
        throw InputError("no client " + std::to_string(o.client_id), ErrorCode::kNotFound);
    const std::string who = "client " + std::to_string(o.client_id);
    auto balance_row = tx.exec_params(
        "SELECT balance FROM client_credit_balances WHERE client_id = $1 AND currency = $2 "
        "FOR UPDATE",
        o.client_id, o.currency);
    const std::int64_t balance = balance_row.empty() ? 0 : balance_row[0][0].as<std::int64_t>();
    if (!tx.exec_params("SELECT 1 FROM refunds WHERE request_key = $1", o.idempotency_key).empty())
        return {};
    if (balance <= 0) {
        auto others = tx.exec_params(
            "SELECT string_agg(currency || ' ' || balance, ', ' ORDER BY currency) FROM "
            "client_credit_balances WHERE client_id = $1 AND balance > 0",
            o.client_id);
        const bool any = !others.empty() && !others[0][0].is_null();
        throw InputError(
            who + " has no credit in " + o.currency +
            (any ? " (its credit, in minor units: " + others[0][0].as<std::string>() + ")" : ""));
    }
    if (o.amount > balance)
        throw InputError("a credit refund of " + format(o.amount, o.currency) +
                         " exceeds the credit balance of " + format(balance, o.currency) + " of " +
                         who);
    // The client's overpaying payments, newest first, with what is left of each overpayment.
    auto payments = tx.exec_params(
        "SELECT p.id, p.invoice_id, p.gateway, coalesce(p.gateway_reference, ''), "
        "       c.amount - coalesce((SELECT sum(r.amount) FROM refunds r WHERE r.payment_id = "
        "       p.id AND r.kind = 'client_credit' AND r.status IN ('succeeded', 'pending', "
        "       'unknown')), 0) "
        "  FROM payments p JOIN invoices i ON i.id = p.invoice_id "
        "  JOIN credits c ON c.idempotency_key = p.idempotency_key || ':overpayment' "
        "                AND c.kind = 'overpayment' "
        " WHERE i.client_id = $1 AND p.currency = $2 AND p.status = 'succeeded' "
        "   AND p.gateway_reference IS NOT NULL "
        " ORDER BY p.id DESC FOR UPDATE OF p",
        o.client_id, o.currency);
    std::int64_t refundable = 0;
    for (const auto& p : payments) refundable += std::max<std::int64_t>(0, p[4].as<std::int64_t>());
    if (o.amount > refundable)
        throw InputError(
            "a credit refund of " + format(o.amount, o.currency) + " exceeds the " +
            format(refundable, o.currency) + " of " + who +
            "'s credit that came from overpayments through a gateway (credit from credit notes "
            "or manual payments cannot be refunded through a gateway)");

    std::vector<Slice> slices;
    std::int64_t left = o.amount;
    for (const auto& p : payments) {
        if (left == 0) break;
        const auto take = std::min(left, p[4].as<std::int64_t>());
        if (take <= 0) continue;
        Slice s;
        s.payment_id = p[0].as<std::int64_t>();
        s.invoice_id = p[1].as<std::int64_t>();
        s.gateway = p[2].as<std::string>();
        s.charge_reference = p[3].as<std::string>();
        s.amount = take;
        s.key = o.idempotency_key + ":p" + std::to_string(s.payment_id);
        s.refund_id =
            tx.exec_params1(
                  "INSERT INTO refunds (payment_id, amount, currency, idempotency_key, status, "
                  "reason, kind, request_key) VALUES ($1, $2, $3, $4, 'unknown', $5, "
                  "'client_credit', $6) RETURNING id",
                  s.payment_id, s.amount, o.currency, s.key, o.reason, o.idempotency_key)[0]
                .as<std::int64_t>();
        billing::CreditRefundRecorder::reserve(tx, s.refund_id);
        slices.push_back(s);
        left -= take;
    }
    return slices;
}

}  // namespace

nlohmann::json CreditRefundIssuer::refund(const CreditRefundOptions& options) const {
    CreditRefundOptions o = options;
    if (o.client_id <= 0) throw InputError("payments.refund_credit: client_id must be positive");
    if (o.amount <= 0) throw InputError("payments.refund_credit: amount must be positive");
    if (o.idempotency_key.empty()) throw InputError("payments.refund_credit: no idempotency key");
    o.currency = std::string(Currency::from_code(o.currency).code());  // InputError if unknown
    auto check_same = [&](const nlohmann::json& seen) {
        if (seen["client_id"] != o.client_id || seen["currency"] != o.currency)
            throw InputError("credit refund key '" + o.idempotency_key +
                             "' belongs to a credit refund of client " + seen["client_id"].dump() +
                             " in " + seen["currency"].get<std::string>());
    };
    {
        auto conn = context_.connect();
        pqxx::read_transaction tx(*conn);
        auto seen = request_outputs(tx, o.idempotency_key);
        if (!seen.is_null()) {
            check_same(seen);
            seen["replayed"] = true;
            return seen;
        }
    }

    // Write-ahead: the rows are in PostgreSQL, their credit reserved, before money can move.
    std::vector<Slice> slices;
    {
        auto conn = context_.connect();
        pqxx::work tx(*conn);
        slices = write_ahead(tx, o);
        if (slices.empty()) {  // the same key won the race: report that request
            auto seen = request_outputs(tx, o.idempotency_key);
            check_same(seen);
            seen["replayed"] = true;
            return seen;
        }
        tx.commit();
    }

    struct Answer {
        std::string status, provider_id, error;
    };
    std::vector<Answer> answers;
    for (const auto& s : slices) {
        gateways::RefundRequest request;
        request.idempotency_key = s.key;
        request.deadline = o.deadline;
        request.charge_reference = s.charge_reference;
        request.amount = Money(s.amount, Currency::from_code(o.currency));
        request.reason = o.reason;
        request.metadata = {{"client_id", std::to_string(o.client_id)},
                            {"invoice_id", std::to_string(s.invoice_id)},
                            {"payment_id", std::to_string(s.payment_id)},
                            {"refund_id", std::to_string(s.refund_id)},
                            {"kind", "client_credit"}};
        const gateways::GatewayResult result =
            send_refund(context_.gateways(), s.gateway, request);
        std::string error = result.error;
        if (!result.decline_code.empty()) error = result.decline_code + ": " + error;
        answers.push_back({refund_status(result.status), result.provider_id, error});
    }

    auto conn = context_.connect();
    pqxx::work tx(*conn);
    for (std::size_t i = 0; i < slices.size(); ++i) {
        const auto& a = answers[i];
        // Only a row still unknown is ours to settle: a reconciler may have resolved it.
        auto updated = tx.exec_params(
            "UPDATE refunds SET status = $2, gateway_reference = coalesce($3, gateway_reference), "
            "error = NULLIF($4, ''), updated_at = now(), resolved_at = CASE WHEN $2 IN "
            "('succeeded', 'failed') THEN now() END WHERE id = $1 AND status = 'unknown' "
            "RETURNING id",
            slices[i].refund_id, a.status,
            a.provider_id.empty() ? std::optional<std::string>() : a.provider_id, a.error);
        if (updated.empty()) continue;
        if (a.status == "succeeded")
            billing::CreditRefundRecorder::record_succeeded(tx, slices[i].refund_id);
        if (a.status == "failed")
            billing::CreditRefundRecorder::record_failed(tx, slices[i].refund_id);
    }
    auto out = request_outputs(tx, o.idempotency_key);
    tx.commit();
    out["refunded"] = true;
    return out;
}

}  // namespace artistsaid::payments
