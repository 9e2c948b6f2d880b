// PayPalGateway: PaymentGateway over PayPal's REST APIs (OAuth2, Orders v2, Payouts v1).
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/http/http_client.hpp"
#include "gateways/payment_gateway.hpp"
#include "gateways/provider_call.hpp"

namespace artistsaid::gateways {

struct PayPalSettings {
    std::string base_url = "https://api-m.paypal.com";
    std::string client_id;      // secret
    std::string client_secret;  // secret
    ProviderRetry retry;
    std::string ca_file;
};

/// PayPal, as the interface needs it:
///   token        POST /v1/oauth2/token (client credentials, HTTP Basic), cached until a
///                minute before it expires (or half its life if shorter); a 401 drops it and
///                the call is made once more with a new one.
///   charge       POST /v2/checkout/orders (intent CAPTURE, the vaulted payment source:
///                payment_method_reference "card:<vault_id>" or "paypal:<vault_id>", a bare
///                id is a PayPal wallet), then POST /v2/checkout/orders/{id}/capture unless the
///                order completed at creation. provider_id is the order id. Money moves only
///                at capture, so a lost create answer is a retryable failure, and a lost
///                capture answer is unknown *with* the order id.
///   refund       POST /v2/payments/captures/{capture_id}/refund (PayPal Payments v2, not in
///                ../shared/specs; the capture id is read from the order).
///   transfer     kPayout only: POST /v1/payments/payouts, one item, sender_batch_id and
///                sender_item_id derived from the idempotency key; provider_id is the
///                payout_batch_id. (PayPal has no transfer to connected accounts.)
///   lookup       by provider id: GET /v2/checkout/orders/{id}, /v2/payments/refunds/{id},
///                /v1/payments/payouts/{id}. PayPal offers no lookup by idempotency key or
///                sender_batch_id, so a lookup with only a key is an InputError: keep the
///                provider_id of unknown results (the reconciler passes gateway_reference).
///   customers    vaulting happens in PayPal's client-side flow: save_customer and
///                save_payment_method only echo the references they are given.
/// Every POST carries PayPal-Request-Id (the operation's key plus a step suffix, the same on
/// every retry). Amounts are decimal strings with the currency's exponent (PayPalGateway
/// ::amount_value). Declines (422 INSTRUMENT_DECLINED etc., a capture DECLINED) map to
/// declined with the issue in lower case; PAYER_ACTION_REQUIRED to requires_action.
///
/// Thread-safety: every member may be called from many threads (the token cache is locked).
class PayPalGateway final : public PaymentGateway {
public:
    explicit PayPalGateway(PayPalSettings settings,
                           const http::HttpClient& client = http::HttpClient::shared(),
                           ProviderCall::Sleeper sleeper = {});

    /// PayPal's `value` for `money`: "12.34", "1200" (JPY); HUF and TWD whole units.
    /// Throws InputError for a fraction PayPal cannot take.
    static std::string amount_value(const Money& money);

    std::string_view name() const override { return "paypal"; }
    CustomerRef save_customer(const CustomerRequest& request) override;
    PaymentMethodRef save_payment_method(const PaymentMethodRequest& request) override;
    GatewayResult charge(const ChargeRequest& request) override;
    GatewayResult refund(const RefundRequest& request) override;
    GatewayResult transfer(const TransferRequest& request) override;
    std::optional<GatewayResult> lookup(const LookupRequest& request) override;

private:
    std::string token(std::chrono::system_clock::time_point deadline, bool renew);
    ProviderReply call(const std::string& method, const std::string& path,
                       const nlohmann::json& body, const std::string& request_id,
                       std::chrono::system_clock::time_point deadline);
    GatewayResult failure_of(const ProviderReply& reply) const;
    nlohmann::json object_or_throw(const ProviderReply& reply, const std::string& what) const;

    PayPalSettings settings_;
    const http::HttpClient& client_;
    ProviderCall::Sleeper sleeper_;
    std::mutex token_mutex_;
    std::string token_;
    std::chrono::system_clock::time_point token_expires_;
};

}  // namespace artistsaid::gateways
