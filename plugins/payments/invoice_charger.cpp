#include "plugins/payments/invoice_charger.hpp"

#include <pqxx/pqxx>

#include "engine/core/error.hpp"
#include "engine/core/logging.hpp"
#include "engine/store/database.hpp"
#include "gateways/reconcile/payment_reconciler.hpp"
#include "plugins/billing/payment_recorder.hpp"
#include "plugins/payments/charge_outputs.hpp"
#include "plugins/payments/reconciled_payment_settler.hpp"

namespace artistsaid::payments {
namespace {

const char* const kNotFoundNote = "not found at the gateway";

nlohmann::json payment_outputs(pqxx::transaction_base& tx, const std::string& key) {
    auto r = tx.exec_params(std::string("SELECT ") + kPaymentOutputColumns +
                                " FROM payments p JOIN invoices i ON i.id = p.invoice_id "
                                "WHERE p.idempotency_key = $1",
                            key);
    if (r.empty()) return nullptr;
    return payment_row_outputs(r[0]);
}

std::optional<std::string> nullable(const std::string& s) {
    return s.empty() ? std::nullopt : std::optional<std::string>(s);
}

}  // namespace

nlohmann::json InvoiceCharger::resume_existing(pqxx::connection& db, const ChargeOptions& o,
                                               bool& charge_again) const {
    charge_again = false;
    std::string status;
    std::string note;
    {
        auto* conn = &db;
        pqxx::read_transaction tx(*conn);
        auto r = tx.exec_params(
            "SELECT status, coalesce(error, ''), invoice_id FROM payments "
            "WHERE idempotency_key = $1", o.idempotency_key);
        if (r.empty()) return nullptr;
        if (r[0][2].as<std::int64_t>() != o.invoice_id)
            throw InputError("payment key '" + o.idempotency_key + "' belongs to invoice " +
                             r[0][2].as<std::string>() + ", not " + std::to_string(o.invoice_id));
        status = r[0][0].as<std::string>();
    }
    bool reconciled = false;
    if (status == "unknown" || status == "pending") {
        if (o.dry_run) {
            auto* conn = &db;
            pqxx::read_transaction tx(*conn);
            auto out = payment_outputs(tx, o.idempotency_key);
            out["replayed"] = true;
            out["dry_run"] = true;
            return out;
        }
        // An earlier attempt did not learn the outcome: ask the gateway by the key first.
        gateways::PaymentReconciler reconciler(context_.database_url(), context_.gateways());
        ReconciledPaymentSettler::attach(reconciler);
        if (auto change = reconciler.reconcile_payment(o.idempotency_key)) {
            reconciled = true;
            note = change->note;
            if (change->lookup_failed)
                throw UnavailableError("the outcome of payment " + o.idempotency_key +
                                       " is unknown and its gateway cannot be asked now: " +
                                       change->note);
            // The first attempt never reached the provider: the same key may be used again.
            if (change->new_status == "failed" && note.rfind(kNotFoundNote, 0) == 0) {
                auto* conn = &db;
                pqxx::work tx(*conn);
                tx.exec_params0("UPDATE payments SET status = 'unknown', error = NULL, "
                                "resolved_at = NULL, updated_at = now() WHERE idempotency_key = "
                                "$1 AND status = 'failed'", o.idempotency_key);
                tx.commit();
                charge_again = true;
                return nullptr;
            }
        }
    }
    auto* conn = &db;
    pqxx::read_transaction tx(*conn);
    auto out = payment_outputs(tx, o.idempotency_key);
    out["replayed"] = true;
    out["reconciled"] = reconciled;
    out["dry_run"] = o.dry_run;
    return out;
}

nlohmann::json InvoiceCharger::attempt_of_day(pqxx::connection& db, const ChargeOptions& o) const {
    auto* conn = &db;
    pqxx::read_transaction tx(*conn);
    auto r = tx.exec_params(
        "SELECT idempotency_key FROM payments WHERE invoice_id = $1 AND collection_day = $2::date",
        o.invoice_id, o.collection_day);
    if (r.empty()) return nullptr;
    auto out = payment_outputs(tx, r[0][0].as<std::string>());
    out["replayed"] = true;
    out["dry_run"] = o.dry_run;
    return out;
}

nlohmann::json InvoiceCharger::charge(const ChargeOptions& o) const {
    if (o.invoice_id <= 0) throw InputError("payments.charge: invoice_id must be positive");
    if (o.idempotency_key.empty()) throw InputError("payments.charge: no idempotency key");
    // One connection for every transaction of this charge (the gateway and the reconciler
    // use their own).
    auto conn = context_.connect();
    bool charge_again = false;
    if (auto existing = resume_existing(*conn, o, charge_again); !existing.is_null()) return existing;
    if (!o.collection_day.empty() && !charge_again) {
        if (auto earlier = attempt_of_day(*conn, o); !earlier.is_null()) return earlier;
    }

    // The invoice, what is due and where to charge it.
    std::int64_t client_id = 0;
    std::int64_t due = 0;
    std::string currency;
    std::string number;
    std::string invoice_status;
    {
        pqxx::read_transaction tx(*conn);
        auto inv = tx.exec_params(
            "SELECT client_id, currency, status, total - credit_applied - amount_paid, "
            "coalesce(number, '') FROM invoices WHERE id = $1", o.invoice_id);
        if (inv.empty())
            throw InputError("payments.charge: no invoice " + std::to_string(o.invoice_id),
                             ErrorCode::kNotFound);
        client_id = inv[0][0].as<std::int64_t>();
        currency = inv[0][1].as<std::string>();
        invoice_status = inv[0][2].as<std::string>();
        due = inv[0][3].as<std::int64_t>();
        number = inv[0][4].as<std::string>();
    }
    if (invoice_status == "paid" || (invoice_status == "unpaid" && due <= 0))
        return no_charge(o.invoice_id, "nothing_due", currency, invoice_status == "paid", o.dry_run);
    if (invoice_status != "unpaid")
        return no_charge(o.invoice_id, "not_collectable", currency, false, o.dry_run);

    const auto& registry = context_.gateways();
    auto& gateway = registry.choose(client_id, Currency::from_code(currency));
    const std::string gateway_name(gateway.name());

    std::int64_t method_id = 0;
    std::string method_ref;
    std::string customer_ref;
    {
        pqxx::read_transaction tx(*conn);
        auto pm = tx.exec_params(
            "SELECT id, gateway_reference, coalesce(gateway_customer_reference, '') "
            "FROM payment_methods WHERE client_id = $1 AND gateway = $2 AND status = 'active' "
            "ORDER BY is_default DESC, id LIMIT 1", client_id, gateway_name);
        if (pm.empty()) {
            auto out = no_charge(o.invoice_id, "no_payment_method", currency, false, o.dry_run);
            out["gateway"] = gateway_name;
            return out;
        }
        method_id = pm[0][0].as<std::int64_t>();
        method_ref = pm[0][1].as<std::string>();
        customer_ref = pm[0][2].as<std::string>();
    }
    if (o.dry_run) {
        auto out = no_charge(o.invoice_id, "would_charge", currency, false, true);
        out["amount"] = due;
        out["gateway"] = gateway_name;
        return out;
    }

    // Write-ahead: the intent is in PostgreSQL before any money can move.
    std::int64_t payment_id = 0;
    {
        pqxx::work tx(*conn);
        if (charge_again) {
            auto r = tx.exec_params1(
                "UPDATE payments SET amount = $2, gateway = $3, payment_method_id = $4, "
                "updated_at = now() WHERE idempotency_key = $1 RETURNING id",
                o.idempotency_key, due, gateway_name, method_id);
            payment_id = r[0].as<std::int64_t>();
        } else {
            // Either unique key stops a concurrent duplicate: the step's key, or (invoice,
            // collection day) for a re-run of the day racing this one.
            auto r = tx.exec_params(
                "INSERT INTO payments (invoice_id, payment_method_id, gateway, idempotency_key, "
                "amount, currency, status, collection_day) VALUES ($1, $2, $3, $4, $5, $6, "
                "'unknown', $7::date) ON CONFLICT DO NOTHING RETURNING id",
                o.invoice_id, method_id, gateway_name, o.idempotency_key, due, currency,
                nullable(o.collection_day));
            if (r.empty())
                throw WorkError("payment " + o.idempotency_key + " of invoice " +
                                std::to_string(o.invoice_id) + " is being charged by another "
                                "attempt; this one will look it up when retried");
            payment_id = r[0][0].as<std::int64_t>();
        }
        tx.commit();
    }

    gateways::ChargeRequest request;
    request.idempotency_key = o.idempotency_key;
    request.deadline = o.deadline;
    request.amount = Money(due, Currency::from_code(currency));
    request.customer_reference = customer_ref;
    request.payment_method_reference = method_ref;
    request.description = "Invoice " + (number.empty() ? std::to_string(o.invoice_id) : number);
    request.metadata = {{"invoice_id", std::to_string(o.invoice_id)},
                        {"payment_id", std::to_string(payment_id)}};
    gateways::GatewayResult result;
    try {
        result = gateway.charge(request);
    } catch (const InputError& e) {
        // Refused before anything was sent: nothing happened at the provider.
        result.status = gateways::OperationStatus::kFailed;
        result.error = logging::redact(e.what());
    } catch (const std::exception& e) {
        result.status = gateways::OperationStatus::kUnknown;
        result.error = logging::redact(e.what());
    }

    pqxx::work tx(*conn);
    const std::string status = payment_status(result.status);
    std::string error = result.error;
    if (result.status == gateways::OperationStatus::kRequiresAction && error.empty())
        error = "requires_action: the customer must authenticate (off-session charge)";
    // Only a row still unknown is ours to settle: a reconciler may have resolved it meanwhile.
    auto updated = tx.exec_params(
        "UPDATE payments SET status = $2, gateway_reference = coalesce($3, gateway_reference), "
        "decline_code = $4, error = $5, updated_at = now(), resolved_at = CASE WHEN $2 IN "
        "('succeeded', 'declined', 'failed') THEN now() END "
        "WHERE id = $1 AND status = 'unknown' RETURNING id",
        payment_id, status, nullable(result.provider_id), nullable(result.decline_code),
        nullable(error));
    if (!updated.empty() && status == "succeeded")
        billing::PaymentRecorder::record_resolved(tx, payment_id);
    auto out = payment_outputs(tx, o.idempotency_key);
    tx.commit();
    out["charged"] = true;
    return out;
}

}  // namespace artistsaid::payments
