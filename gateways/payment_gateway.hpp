// PaymentGateway: the one interface every payment provider (sandbox, Stripe, PayPal, bank)
// is used through. Billing, payouts and the reconciler know only this header.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/money.hpp"

namespace artistsaid::gateways {

/// What kind of money movement an operation is. Lookups need it: providers keep charges,
/// refunds, transfers and payouts in different collections.
enum class OperationKind {
    kCharge,    // money in from a customer's payment method
    kRefund,    // money back to the customer, against an earlier charge
    kTransfer,  // money to a connected account on the same provider (Stripe Connect)
    kPayout,    // money out to a payee's bank or wallet (Stripe payout, PayPal payout, bank)
};

/// The outcome of an operation, Kill Bill's payment states plus requires_action.
enum class OperationStatus {
    kSucceeded,       // the money moved
    kPending,         // accepted, not final yet (bank transfer, payout in flight): reconcile
    kRequiresAction,  // the customer must act (3-D Secure); off-session this is a failure
    kDeclined,        // the provider or the issuer said no; decline_code says why
    kFailed,          // did not happen; `retryable` says whether the same key may be tried again
    kUnknown,         // timeout or lost response: may or may not have happened. Never retry
                      // blindly: reconcile (PaymentReconciler) by lookup first.
};

/// "succeeded", "pending", "requires_action", "declined", "failed", "unknown".
std::string_view to_string(OperationStatus status) noexcept;
/// The inverse of to_string(OperationStatus); nullopt for anything else.
std::optional<OperationStatus> operation_status_from_string(std::string_view text) noexcept;
/// "charge", "refund", "transfer", "payout".
std::string_view to_string(OperationKind kind) noexcept;
std::optional<OperationKind> operation_kind_from_string(std::string_view text) noexcept;

/// Free-form key/value pairs stored with the operation at the provider.
using Metadata = std::map<std::string, std::string>;

/// What every request to a gateway carries.
struct OperationContext {
    /// Stable across attempts (the step's key, see StepCall::idempotency_key): sent upstream
    /// as Stripe's Idempotency-Key / PayPal's PayPal-Request-Id and recorded with the
    /// operation, so a repeated call never moves money twice. At most 255 characters.
    std::string idempotency_key;
    /// The whole call, retries included, ends by then; a call cut short by it is kUnknown.
    std::chrono::system_clock::time_point deadline;
};

/// Creates (reference empty) or updates (reference set) a customer at the provider.
struct CustomerRequest : OperationContext {
    std::string reference;  // the provider's customer id to update; empty: create
    std::string name;
    std::string email;
    Metadata metadata;
};

/// Attaches a payment method to a customer (or updates its default flag).
struct PaymentMethodRequest : OperationContext {
    std::string customer_reference;
    /// What the client-side flow produced: a Stripe pm_/tok_ id, a PayPal vault token id,
    /// a sandbox test card number or token. Never a card number of a real card.
    std::string token;
    bool make_default = false;
};

struct CustomerRef {
    std::string reference;  // cus_..., PayPal customer id, sandbox id
};

struct PaymentMethodRef {
    std::string reference;           // pm_..., vault token id, sandbox id
    std::string customer_reference;
    std::string brand;               // "visa"; empty when unknown
    std::string last4;               // empty when unknown
    int exp_month = 0;               // 0 when unknown
    int exp_year = 0;
};

struct ChargeRequest : OperationContext {
    Money amount{0, Currency::from_code("USD")};  // > 0
    std::string customer_reference;
    std::string payment_method_reference;
    std::string description;
    Metadata metadata;
};

struct RefundRequest : OperationContext {
    std::string charge_reference;  // the provider id of the charge (GatewayResult::provider_id)
    std::optional<Money> amount;   // nullopt: refund everything not yet refunded
    std::string reason;
    Metadata metadata;
};

/// Money out: kTransfer to a connected account (acct_...), kPayout to a payee (a PayPal
/// e-mail or payer id, an IBAN for the bank, the platform's bank account for a Stripe payout).
struct TransferRequest : OperationContext {
    OperationKind kind = OperationKind::kTransfer;  // kTransfer or kPayout
    Money amount{0, Currency::from_code("USD")};    // > 0
    std::string destination;
    std::string payee_name;  // the bank file's creditor name; informative elsewhere
    std::string description;
    Metadata metadata;
};

/// Finds an earlier operation by the key it was sent with, or by the provider's id.
struct LookupRequest {
    OperationKind kind = OperationKind::kCharge;
    std::string idempotency_key;  // at least one of the two is set
    std::string provider_id;
    std::chrono::system_clock::time_point deadline;
};

/// What a gateway says about one operation. Errors of the outside world are data here, not
/// exceptions: only a request that is wrong before anything is sent throws (InputError).
struct GatewayResult {
    OperationStatus status = OperationStatus::kUnknown;
    std::string provider_id;   // pi_..., re_..., tr_..., po_..., capture id, batch id
    std::optional<Money> amount;
    std::string decline_code;  // kDeclined: the provider's code ("card_declined",
                               // "insufficient_funds", "expired_card", ...)
    std::string error;         // human-readable reason; never contains a secret
    bool retryable = false;    // kFailed: the same key may be tried again later
    /// kFailed and retryable: the provider asked us to wait this long (Retry-After).
    std::optional<std::chrono::milliseconds> retry_after;

    bool is_final() const noexcept {
        return status == OperationStatus::kSucceeded || status == OperationStatus::kDeclined ||
               (status == OperationStatus::kFailed && !retryable);
    }
};

/// One payment provider. Implementations: SandboxGateway, StripeGateway, PayPalGateway,
/// BankTransferGateway.
///
/// Thread-safety: every member may be called from many threads at once.
///
/// Guarantee: idempotent per OperationContext::idempotency_key. Calling an operation again
/// with the same key (after a crash, a timeout, a retry) returns the first operation's
/// outcome and never moves money a second time. A result of kUnknown is resolved with
/// lookup(), never by calling the operation again with a new key.
///
/// Eight members (charge_batch has a default) rather than STYLE.md's two to four: each is one of the provider calls the
/// domain needs, and folding them into one `execute(variant)` would only hide that.
class PaymentGateway {
public:
    virtual ~PaymentGateway() = default;

    /// "sandbox", "stripe", "paypal", "bank": the value stored in payments.gateway.
    virtual std::string_view name() const = 0;

    /// Creates or updates a customer. Throws UnavailableError if the provider cannot be
    /// reached, WorkError if it refuses.
    virtual CustomerRef save_customer(const CustomerRequest& request) = 0;
    /// Attaches a payment method to a customer. Errors as save_customer().
    virtual PaymentMethodRef save_payment_method(const PaymentMethodRequest& request) = 0;

    /// Takes money from a stored payment method, off-session.
    virtual GatewayResult charge(const ChargeRequest& request) = 0;
    /// Many charges at once (the batch charge path): one result per request, in order, each
    /// exactly what charge() would have answered for it under its own idempotency key. A
    /// request refused before anything was sent (charge() would throw InputError) is kFailed,
    /// not retryable; any other exception of one charge is kUnknown (reconcile by lookup).
    /// The default calls charge() for each request, at most `max_parallel` at a time (HTTP
    /// providers); a gateway that can do better (the sandbox: one transaction per batch)
    /// overrides it. Throws only when the whole batch could not be attempted.
    virtual std::vector<GatewayResult> charge_batch(const std::vector<ChargeRequest>& requests,
                                                    int max_parallel);
    /// Gives back all or part of a charge.
    virtual GatewayResult refund(const RefundRequest& request) = 0;
    /// Sends money to a connected account or a payee.
    virtual GatewayResult transfer(const TransferRequest& request) = 0;

    /// The current state of an earlier operation; nullopt when the provider has no such
    /// operation (it never happened: a new attempt with the same key is safe). Throws
    /// UnavailableError when the provider cannot be asked right now.
    virtual std::optional<GatewayResult> lookup(const LookupRequest& request) = 0;
};

}  // namespace artistsaid::gateways
