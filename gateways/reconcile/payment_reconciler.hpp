// PaymentReconciler: resolves payments, refunds and payouts whose outcome is unknown or
// pending by asking their gateway (Kill Bill's Janitor), never by trying them again.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <pqxx/transaction_base>

#include "gateways/gateway_registry.hpp"

namespace artistsaid::gateways {

struct ReconcileOptions {
    /// Rows younger than this are left alone: their call may still be in flight. Keep it
    /// above the longest gateway deadline.
    std::chrono::seconds min_age{60};
    /// Rows looked at per run_once().
    int limit = 500;
    /// Deadline of each lookup.
    std::chrono::seconds lookup_timeout{30};
};

/// One row the reconciler looked at.
struct ReconcileChange {
    std::string table;            // "payments", "refunds", "payouts"
    long long id = 0;
    std::string idempotency_key;
    std::string gateway;
    std::string old_status;
    std::string new_status;       // == old_status when nothing changed
    std::string provider_id;
    std::string decline_code;
    std::string note;             // why (the gateway's error, "not found at the gateway", ...)
    bool lookup_failed = false;   // the gateway could not be asked; the row is unchanged
};

struct ReconcileReport {
    int checked = 0;
    int resolved = 0;   // status changed
    int unchanged = 0;  // still unknown or pending at the gateway
    int errors = 0;     // the gateway could not be asked (or is not configured)
    std::vector<ReconcileChange> changes;  // every row checked, in order
};

/// Looks up, by idempotency key, every `payments` / `refunds` row in status unknown or
/// pending and every `payouts` row in unknown or processing (Stripe Connect and PayPal; bank
/// payouts are settled by statement import), and records what the gateway says:
///   succeeded → succeeded (payouts: paid); pending → pending (payouts: processing);
///   declined → declined with its code (refunds, payouts: failed); failed or
///   requires_action → failed; unknown → unchanged;
///   not found → failed with "not found at the gateway": the attempt never reached the
///   provider, so a new attempt with the same key is safe.
///
/// Thread-safety: one instance per thread; many reconcilers (processes) may run at once —
/// each row is locked (FOR UPDATE SKIP LOCKED) while it is looked up and updated.
///
/// Guarantee: never calls charge/refund/transfer; the only provider call is lookup().
class PaymentReconciler {
public:
    /// Called inside the transaction that changes a row (e.g. to post ledger entries), so
    /// the change and its consequences commit together.
    using ChangeListener = std::function<void(pqxx::transaction_base&, const ReconcileChange&)>;

    PaymentReconciler(std::string database_url, const GatewayRegistry& gateways,
                      ReconcileOptions options = {});

    void on_change(ChangeListener listener) { listener_ = std::move(listener); }

    /// One pass over the open rows (oldest first, up to options.limit). Throws
    /// UnavailableError if PostgreSQL is down; a gateway that cannot be asked counts as an
    /// error in the report and its rows stay as they were.
    ReconcileReport run_once();

    /// Reconciles the one payment with this idempotency key now, whatever its age: what a
    /// caller does before any new attempt of a payment left unknown or pending. nullopt if
    /// there is no such payment or it is already final.
    std::optional<ReconcileChange> reconcile_payment(const std::string& idempotency_key);

private:
    struct Candidate;
    std::optional<ReconcileChange> reconcile(const Candidate& candidate, bool any_age);

    std::string database_url_;
    const GatewayRegistry& gateways_;
    ReconcileOptions options_;
    ChangeListener listener_;
};

}  // namespace artistsaid::gateways
