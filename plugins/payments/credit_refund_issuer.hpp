// CreditRefundIssuer: pays a client's credit balance back through the gateway, once.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "plugins/payments/payments_context.hpp"

namespace artistsaid::payments {

struct CreditRefundOptions {
    std::int64_t client_id = 0;
    std::string currency;     // ISO 4217 code of the credit to refund
    std::int64_t amount = 0;  // minor units, > 0
    std::string reason;
    /// The request's key: refunds.request_key of every row it makes; each row's own key (sent
    /// to the gateway) is this key + ":p" + the payment's id.
    std::string idempotency_key;
    std::chrono::system_clock::time_point deadline;
};

/// Refunds client credit that came from overpayments (write-ahead, like RefundIssuer):
///  1. A request under this key exists already: its outcome is reported as it is
///     (`replayed`); rows left unknown or pending are resolved by `payments reconcile`.
///  2. Otherwise, in one transaction holding the client's credit balance row and then its
///     overpaying succeeded payments FOR UPDATE: the amount must not exceed the balance
///     (which already excludes credit refunds in flight: their credit is reserved) nor what
///     is left of the payments' overpayments (each one's overpayment less its credit refunds
///     succeeded or in flight); it is split over those payments newest first, one `refunds`
///     row (kind client_credit, status unknown) per payment, each with its credit reserved
///     (CreditRefundRecorder::reserve), committed before any gateway call. Two concurrent
///     requests serialise on the balance row, so together they never exceed it.
///  3. Each row is sent to its payment's gateway with its own key; the answers are recorded in
///     one transaction (succeeded → refund.succeeded; failed → the credit is given back;
///     unknown/pending → left to the reconciler, whose settle hook finishes them once).
/// InputError (nothing written) for an unknown client, an unknown currency, no credit in the
/// currency, an amount <= 0 or above the balance or above what overpayments can refund.
///
/// Outputs (JSON): client_id, currency, amount, status (succeeded | pending | unknown | failed
/// | partial: some rows succeeded, others failed), refunded_amount (succeeded), refunds:
/// [{refund_id, payment_id, invoice_id, gateway, amount, status, error}], credit_balance
/// (after), refunded (this attempt called the gateway), replayed.
class CreditRefundIssuer {
public:
    explicit CreditRefundIssuer(const PaymentsContext& context) : context_(context) {}

    nlohmann::json refund(const CreditRefundOptions& options) const;

private:
    const PaymentsContext& context_;
};

}  // namespace artistsaid::payments
