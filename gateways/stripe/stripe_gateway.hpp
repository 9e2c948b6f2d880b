// StripeGateway: PaymentGateway over Stripe's REST API (v1, pinned version 2023-08-16).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/http/http_client.hpp"
#include "gateways/payment_gateway.hpp"
#include "gateways/provider_call.hpp"

namespace artistsaid::gateways {

struct StripeSettings {
    std::string base_url = "https://api.stripe.com";
    std::string api_key;                     // a secret: registered with the log redactor
    std::string api_version = "2023-08-16";  // Stripe-Version on every request
    std::chrono::milliseconds attempt_timeout{std::chrono::seconds(30)};  // one HTTP attempt
    int max_attempts = 3;                    // per call, within the call's deadline
    std::chrono::milliseconds base_delay{std::chrono::milliseconds(500)};
    std::chrono::milliseconds max_delay{std::chrono::seconds(30)};
    int lookup_pages = 10;                   // list pages (100 each) searched by lookup()
    std::string ca_file;                     // tests with a private CA; empty: the system's
};

/// Stripe, as the interface needs it:
///   save_customer          POST /v1/customers, /v1/customers/{customer}
///   save_payment_method    POST /v1/payment_methods/{pm}/attach (+ the customer's
///                          invoice_settings[default_payment_method] when make_default)
///   charge                 POST /v1/payment_intents, confirm=true, off_session=true
///   refund                 POST /v1/refunds (payment_intent, optional amount)
///   transfer               POST /v1/transfers (kTransfer, Connect) or /v1/payouts (kPayout)
///   lookup                 GET /v1/<collection>/{id}; by key: GET /v1/payment_intents/search
///                          with metadata['idempotency_key'], and for refunds, transfers and
///                          payouts (which have no search) the newest lookup_pages * 100 of
///                          GET /v1/<collection>, filtered on metadata.idempotency_key.
/// Requests are form-encoded with Bearer auth and Stripe-Version; every POST carries
/// Idempotency-Key = the operation's key, the same on every retry, and metadata
/// [idempotency_key] so lookups can find it (Stripe has no lookup by idempotency key; its
/// search index lags by up to a minute, which the reconciler's min_age covers).
/// Amounts follow StripeAmount (zero- and three-decimal rules).
///
/// Errors: card_error → declined with decline_code (or code); authentication_required →
/// requires_action; 409, 429 and 5xx and network failures are retried within the deadline
/// (Retry-After and Stripe-Should-Retry honoured), then failed + retryable; a request whose
/// answer was lost on every attempt is unknown; other 4xx → failed, not retryable.
///
/// Thread-safety: every member may be called from many threads (the HttpClient is shared).
class StripeGateway final : public PaymentGateway {
public:
    using Sleeper = ProviderCall::Sleeper;

    /// Throws InputError if the key or the base URL is missing.
    explicit StripeGateway(StripeSettings settings,
                           const http::HttpClient& client = http::HttpClient::shared(),
                           Sleeper sleeper = {});

    std::string_view name() const override { return "stripe"; }
    CustomerRef save_customer(const CustomerRequest& request) override;
    PaymentMethodRef save_payment_method(const PaymentMethodRequest& request) override;
    GatewayResult charge(const ChargeRequest& request) override;
    GatewayResult refund(const RefundRequest& request) override;
    GatewayResult transfer(const TransferRequest& request) override;
    std::optional<GatewayResult> lookup(const LookupRequest& request) override;

private:
    using Reply = ProviderReply;
    Reply send(const std::string& method, const std::string& path, const http::HeaderList& form,
               const std::string& idempotency_key,
               std::chrono::system_clock::time_point deadline) const;
    nlohmann::json object_or_throw(const Reply& reply, const std::string& what) const;
    GatewayResult result_of(const Reply& reply, OperationKind kind) const;
    std::string clean(std::string text) const;

    StripeSettings settings_;
    const http::HttpClient& client_;
    Sleeper sleeper_;
};

}  // namespace artistsaid::gateways
