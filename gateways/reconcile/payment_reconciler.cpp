#include "gateways/reconcile/payment_reconciler.hpp"

#include <pqxx/pqxx>

#include "engine/core/error.hpp"
#include "engine/core/logging.hpp"
#include "engine/store/database.hpp"

namespace artistsaid::gateways {

struct PaymentReconciler::Candidate {
    std::string table;
    long long id = 0;
};

namespace {

// The row's new status for what the gateway said (nullopt: not found); empty: unchanged.
std::string new_status_for(const std::string& table, const std::optional<GatewayResult>& found) {
    bool payouts = table == "payouts";
    if (!found) return "failed";
    switch (found->status) {
        case OperationStatus::kSucceeded: return payouts ? "paid" : "succeeded";
        case OperationStatus::kPending: return payouts ? "processing" : "pending";
        case OperationStatus::kDeclined: return table == "payments" ? "declined" : "failed";
        case OperationStatus::kFailed:
        case OperationStatus::kRequiresAction: return "failed";
        case OperationStatus::kUnknown: return "";
    }
    return "";
}

bool is_final(const std::string& status) {
    return status == "succeeded" || status == "paid" || status == "declined" || status == "failed";
}

std::optional<std::string> nullable(const std::string& s) {
    return s.empty() ? std::nullopt : std::optional<std::string>(s);
}

}  // namespace

PaymentReconciler::PaymentReconciler(std::string database_url, const GatewayRegistry& gateways,
                                     ReconcileOptions options)
    : database_url_(std::move(database_url)), gateways_(gateways), options_(options) {}

ReconcileReport PaymentReconciler::run_once() {
    std::vector<Candidate> candidates;
    {
        auto conn = store::connect(database_url_);
        try {
            pqxx::read_transaction tx(*conn);
            auto rows = tx.exec_params(
                "SELECT tbl, id FROM ("
                " SELECT 'payments' AS tbl, id, created_at FROM payments"
                "  WHERE status IN ('unknown', 'pending')"
                " UNION ALL SELECT 'refunds', id, created_at FROM refunds"
                "  WHERE status IN ('unknown', 'pending')"
                " UNION ALL SELECT 'payouts', id, created_at FROM payouts"
                "  WHERE status IN ('unknown', 'processing') AND method <> 'bank'"
                ") open WHERE created_at <= now() - make_interval(secs => $1)"
                " ORDER BY created_at, id LIMIT $2",
                static_cast<double>(options_.min_age.count()), options_.limit);
            for (const auto& row : rows) {
                candidates.push_back({row[0].as<std::string>(), row[1].as<long long>()});
            }
        } catch (const std::exception&) {
            store::throw_from_pqxx("listing unresolved payments");
        }
    }
    ReconcileReport report;
    for (const auto& candidate : candidates) {
        auto change = reconcile(candidate, false);
        if (!change) continue;  // taken by another reconciler, or settled meanwhile
        ++report.checked;
        if (change->lookup_failed) {
            ++report.errors;
        } else if (change->new_status != change->old_status) {
            ++report.resolved;
        } else {
            ++report.unchanged;
        }
        report.changes.push_back(std::move(*change));
    }
    return report;
}

std::optional<ReconcileChange> PaymentReconciler::reconcile_payment(
    const std::string& idempotency_key) {
    auto conn = store::connect(database_url_);
    long long id = 0;
    try {
        pqxx::read_transaction tx(*conn);
        auto rows = tx.exec_params("SELECT id FROM payments WHERE idempotency_key = $1",
                                   idempotency_key);
        if (rows.empty()) return std::nullopt;
        id = rows[0][0].as<long long>();
    } catch (const std::exception&) {
        store::throw_from_pqxx("finding payment " + idempotency_key);
    }
    return reconcile(Candidate{"payments", id}, true);
}

std::optional<ReconcileChange> PaymentReconciler::reconcile(const Candidate& candidate,
                                                            bool any_age) {
    auto conn = store::connect(database_url_);
    try {
        pqxx::work tx(*conn);
        std::string age = any_age ? "" : " AND x.created_at <= now() - make_interval(secs => $2)";
        std::string sql;
        OperationKind kind = OperationKind::kCharge;
        if (candidate.table == "payments") {
            sql = "SELECT x.gateway, x.idempotency_key, x.status, coalesce(x.gateway_reference, "
                  "''), '' FROM payments x WHERE x.id = $1 AND x.status IN ('unknown', "
                  "'pending')" + age + " FOR UPDATE SKIP LOCKED";
        } else if (candidate.table == "refunds") {
            kind = OperationKind::kRefund;
            sql = "SELECT p.gateway, x.idempotency_key, x.status, coalesce(x.gateway_reference, "
                  "''), '' FROM refunds x JOIN payments p ON p.id = x.payment_id WHERE x.id = $1 "
                  "AND x.status IN ('unknown', 'pending')" + age + " FOR UPDATE OF x SKIP LOCKED";
        } else {
            sql = "SELECT CASE x.method WHEN 'stripe_connect' THEN 'stripe' ELSE x.method END, "
                  "x.idempotency_key, x.status, coalesce(x.gateway_reference, ''), x.method "
                  "FROM payouts x WHERE x.id = $1 AND x.status IN ('unknown', 'processing') AND "
                  "x.method <> 'bank'" + age + " FOR UPDATE SKIP LOCKED";
        }
        auto rows = any_age ? tx.exec_params(sql, candidate.id)
                            : tx.exec_params(sql, candidate.id,
                                             static_cast<double>(options_.min_age.count()));
        if (rows.empty()) return std::nullopt;
        ReconcileChange change;
        change.table = candidate.table;
        change.id = candidate.id;
        change.gateway = rows[0][0].as<std::string>();
        change.idempotency_key = rows[0][1].as<std::string>();
        change.old_status = rows[0][2].as<std::string>();
        change.provider_id = rows[0][3].as<std::string>();
        if (rows[0][4].as<std::string>() == "stripe_connect") kind = OperationKind::kTransfer;
        if (rows[0][4].as<std::string>() == "paypal") kind = OperationKind::kPayout;

        std::optional<GatewayResult> found;
        try {
            auto& gateway = gateways_.get(change.gateway);
            LookupRequest lookup{kind, change.idempotency_key, change.provider_id,
                                 std::chrono::system_clock::now() + options_.lookup_timeout};
            found = gateway.lookup(lookup);
        } catch (const Error& e) {
            // The gateway is not configured or cannot be asked now: leave the row as it is.
            change.new_status = change.old_status;
            change.lookup_failed = true;
            change.note = logging::redact(e.what());
            return change;
        }
        change.new_status = new_status_for(change.table, found);
        if (change.new_status.empty()) change.new_status = change.old_status;
        if (!found) {
            change.note = "not found at the gateway: the attempt never reached " + change.gateway +
                          "; a new attempt with the same key is safe";
        } else {
            if (!found->provider_id.empty()) change.provider_id = found->provider_id;
            change.decline_code = found->decline_code;
            change.note = found->error;
        }
        if (change.new_status == change.old_status && found) {
            tx.commit();
            return change;
        }
        std::string resolved = is_final(change.new_status) ? "now()" : "NULL";
        if (change.table == "payments") {
            tx.exec_params("UPDATE payments SET status = $2, gateway_reference = coalesce($3, "
                           "gateway_reference), decline_code = $4, error = $5, updated_at = now(), "
                           "resolved_at = " + resolved + " WHERE id = $1",
                           change.id, change.new_status, nullable(change.provider_id),
                           nullable(change.decline_code), nullable(change.note));
        } else if (change.table == "refunds") {
            tx.exec_params("UPDATE refunds SET status = $2, gateway_reference = coalesce($3, "
                           "gateway_reference), error = $4, updated_at = now(), resolved_at = " +
                               resolved + " WHERE id = $1",
                           change.id, change.new_status, nullable(change.provider_id),
                           nullable(change.note));
        } else {
            tx.exec_params("UPDATE payouts SET status = $2, gateway_reference = coalesce($3, "
                           "gateway_reference), error = $4, updated_at = now(), paid_at = CASE "
                           "WHEN $2 = 'paid' THEN now() ELSE paid_at END WHERE id = $1",
                           change.id, change.new_status, nullable(change.provider_id),
                           nullable(change.note));
        }
        if (listener_) listener_(tx, change);
        tx.commit();
        return change;
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        store::throw_from_pqxx("reconciling " + candidate.table + " " +
                               std::to_string(candidate.id));
    }
}

}  // namespace artistsaid::gateways
