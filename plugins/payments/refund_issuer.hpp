// RefundIssuer: refunds (part of) a succeeded payment through its gateway, once.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "plugins/payments/payments_context.hpp"

namespace artistsaid::payments {

struct RefundOptions {
    std::int64_t payment_id = 0;  // this payment, or
    std::int64_t invoice_id = 0;  // the newest succeeded payment of the invoice that covers it
    /// Minor units of the payment's currency; nullopt: everything still refundable.
    std::optional<std::int64_t> amount;
    std::string reason;
    /// The step's key: sent to the gateway and stored as refunds.idempotency_key.
    std::string idempotency_key;
    std::chrono::system_clock::time_point deadline;
};

/// Refunds a payment (write-ahead, like InvoiceCharger):
///  1. A refund under this key exists already: its outcome is reported as it is (`replayed`);
///     one left unknown or pending is resolved by `payments reconcile`, never sent blindly.
///  2. Otherwise, in one transaction holding the payment row (and then the invoice row) FOR
///     UPDATE, what is refundable is computed — the payment's amount, less the part of it that
///     became client credit (overpayment), less its refunds succeeded or in flight, and never
///     more than is left to credit on the invoice — and a `refunds` row is committed as
///     `unknown` before the gateway is called. Two concurrent refunds of one payment
///     serialise on that lock, so together they never exceed it.
///  3. The gateway's answer is recorded; succeeded → RefundRecorder (credit note, ledger,
///     invoice `refunded` when fully refunded) in the same transaction.
/// InputError (nothing written) for no such payment/invoice, nothing refundable, an amount
/// <= 0 or above what is refundable.
///
/// Outputs (JSON): refund_id, payment_id, invoice_id, status (succeeded | pending | failed |
/// unknown), amount, currency, gateway, error, credit_note_id, credit_note_number,
/// invoice_status, refunded (this attempt called the gateway), replayed.
class RefundIssuer {
public:
    explicit RefundIssuer(const PaymentsContext& context) : context_(context) {}

    nlohmann::json refund(const RefundOptions& options) const;

private:
    const PaymentsContext& context_;
};

}  // namespace artistsaid::payments
