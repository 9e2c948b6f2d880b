#include "gateways/paypal/paypal_gateway.hpp"

#include <algorithm>

#include "engine/core/digest.hpp"
#include "engine/core/error.hpp"
#include "engine/core/id.hpp"
#include "engine/core/logging.hpp"

namespace artistsaid::gateways {
namespace {

using Clock = std::chrono::system_clock;

bool retryable_status(const http::HttpResponse& response) {
    return response.status == 409 || response.status == 429 || response.status >= 500;
}

std::string string_at(const nlohmann::json& object, const char* key) {
    if (!object.is_object() || !object.contains(key) || !object[key].is_string()) return "";
    return object[key].get<std::string>();
}

std::string lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

std::optional<Money> money_of(const nlohmann::json& amount) {
    auto currency = Currency::find(string_at(amount, "currency_code").empty()
                                       ? string_at(amount, "currency")
                                       : string_at(amount, "currency_code"));
    if (!currency) return std::nullopt;
    try {
        return Money::parse(string_at(amount, "value"), *currency);
    } catch (const Error&) {
        return std::nullopt;
    }
}

// The first capture of an order, or null.
nlohmann::json capture_of(const nlohmann::json& order) {
    try {
        return order.at("purchase_units").at(0).at("payments").at("captures").at(0);
    } catch (const nlohmann::json::exception&) {
        return nullptr;
    }
}

// An order as a charge result; nullopt when nothing was captured (no money moved).
std::optional<GatewayResult> charge_of_order(const nlohmann::json& order) {
    GatewayResult result;
    result.provider_id = string_at(order, "id");
    std::string status = string_at(order, "status");
    auto capture = capture_of(order);
    if (status == "PAYER_ACTION_REQUIRED") {
        result.status = OperationStatus::kRequiresAction;
        result.error = "paypal: the payer must act";
        return result;
    }
    if (status == "VOIDED") {
        result.status = OperationStatus::kFailed;
        result.error = "paypal: the order was voided";
        return result;
    }
    if (capture.is_null()) return std::nullopt;
    if (capture.contains("amount")) result.amount = money_of(capture["amount"]);
    std::string capture_status = string_at(capture, "status");
    if (capture_status == "COMPLETED") {
        result.status = OperationStatus::kSucceeded;
    } else if (capture_status == "PENDING") {
        result.status = OperationStatus::kPending;
    } else if (capture_status == "DECLINED") {
        result.status = OperationStatus::kDeclined;
        std::string code = capture.contains("processor_response")
                               ? string_at(capture["processor_response"], "response_code")
                               : "";
        result.decline_code = code.empty() ? "declined" : "processor_" + code;
        result.error = "paypal: the capture was declined";
    } else {
        result.status = OperationStatus::kFailed;
        result.error = "paypal: capture " + string_at(capture, "id") + " is " + capture_status;
    }
    return result;
}

GatewayResult status_result(const std::string& status, const std::string& id,
                            std::optional<Money> amount) {
    GatewayResult result;
    result.provider_id = id;
    result.amount = amount;
    if (status == "COMPLETED" || status == "SUCCESS") {
        result.status = OperationStatus::kSucceeded;
    } else if (status == "PENDING" || status == "PROCESSING" || status == "NEW") {
        result.status = OperationStatus::kPending;
    } else {
        result.status = OperationStatus::kFailed;
        result.error = "paypal: " + id + " is " + status;
    }
    return result;
}

std::string hashed(std::string_view prefix, const std::string& key) {
    return std::string(prefix) + sha256_hex(key).substr(0, 32);
}

}  // namespace

PayPalGateway::PayPalGateway(PayPalSettings settings, const http::HttpClient& client,
                             ProviderCall::Sleeper sleeper)
    : settings_(std::move(settings)), client_(client), sleeper_(std::move(sleeper)) {
    if (settings_.client_id.empty() || settings_.client_secret.empty()) {
        throw InputError("paypal: no client id / client secret (secrets) configured");
    }
    if (settings_.base_url.empty()) throw InputError("paypal: no base_url configured");
    while (settings_.base_url.back() == '/') settings_.base_url.pop_back();
    logging::add_secret(settings_.client_id);
    logging::add_secret(settings_.client_secret);
}

std::string PayPalGateway::amount_value(const Money& money) {
    auto code = money.currency().code();
    if (code == "HUF" || code == "TWD") {
        if (money.minor_units() % 100 != 0) {
            throw InputError("PayPal takes " + std::string(code) + " in whole units; " +
                             money.to_string() + " has a fraction");
        }
        return std::to_string(money.minor_units() / 100);
    }
    return money.format_amount();
}

std::string PayPalGateway::token(Clock::time_point deadline, bool renew) {
    std::lock_guard lock(token_mutex_);
    if (!renew && !token_.empty() && Clock::now() < token_expires_) return token_;
    http::HttpRequest request;
    request.method = "POST";
    request.url = settings_.base_url + "/v1/oauth2/token";
    request.basic_auth(settings_.client_id, settings_.client_secret);
    request.header("PayPal-Request-Id", new_id());
    request.form({{"grant_type", "client_credentials"}});
    request.ca_file = settings_.ca_file;
    auto reply = ProviderCall::send(client_, request, deadline, settings_.retry, retryable_status,
                                    sleeper_);
    if (!reply.response) {
        throw UnavailableError("paypal: no access token: " + logging::redact(reply.transport_error));
    }
    if (!reply.response->ok()) {
        auto body = reply.response->json();
        throw WorkError("paypal: the token request was refused (" +
                        std::to_string(reply.response->status) + " " + string_at(body, "error") +
                        ")");
    }
    auto body = reply.response->json();
    token_ = string_at(body, "access_token");
    if (token_.empty()) throw WorkError("paypal: the token response has no access_token");
    logging::add_secret(token_);
    auto life = std::chrono::seconds(body.value("expires_in", 0));
    auto margin = std::min<std::chrono::seconds>(std::chrono::seconds(60), life / 2);
    token_expires_ = Clock::now() + life - margin;
    return token_;
}

ProviderReply PayPalGateway::call(const std::string& method, const std::string& path,
                                  const nlohmann::json& body, const std::string& request_id,
                                  Clock::time_point deadline) {
    if (deadline.time_since_epoch().count() == 0) deadline = Clock::now() + std::chrono::minutes(2);
    ProviderReply reply;
    for (int pass = 0; pass < 2; ++pass) {
        http::HttpRequest request;
        request.method = method;
        request.url = settings_.base_url + path;
        request.bearer(token(deadline, pass > 0));
        if (method == "POST") {
            request.header("PayPal-Request-Id", request_id);
            request.header("Prefer", "return=representation");
            request.json(body);
        }
        request.ca_file = settings_.ca_file;
        reply = ProviderCall::send(client_, request, deadline, settings_.retry, retryable_status,
                                   sleeper_);
        // An expired or revoked token: once more with a new one.
        if (!reply.response || reply.response->status != 401) break;
    }
    return reply;
}

GatewayResult PayPalGateway::failure_of(const ProviderReply& reply) const {
    GatewayResult result;
    if (!reply.response) {
        result.status = reply.maybe_executed ? OperationStatus::kUnknown : OperationStatus::kFailed;
        result.retryable = true;
        result.error = "paypal: " + logging::redact(reply.transport_error);
        return result;
    }
    const auto& response = *reply.response;
    nlohmann::json body;
    try {
        body = response.json();
    } catch (const Error&) {
        body = nlohmann::json::object();
    }
    std::string issue;
    if (body.contains("details") && body["details"].is_array() && !body["details"].empty()) {
        issue = string_at(body["details"][0], "issue");
    }
    result.error = logging::redact("paypal: " + std::to_string(response.status) + " " +
                                   string_at(body, "name") + (issue.empty() ? "" : " " + issue) +
                                   ": " + string_at(body, "message"));
    if (response.status == 422 && issue == "PAYER_ACTION_REQUIRED") {
        result.status = OperationStatus::kRequiresAction;
        result.decline_code = lower(issue);
        return result;
    }
    if (response.status == 422 && (issue == "INSTRUMENT_DECLINED" || issue == "TRANSACTION_REFUSED" ||
                                   issue == "CARD_EXPIRED" || issue == "INSUFFICIENT_FUNDS" ||
                                   issue == "PAYEE_BLOCKED_TRANSACTION")) {
        result.status = OperationStatus::kDeclined;
        result.decline_code = lower(issue);
        return result;
    }
    bool retryable = retryable_status(response);
    if (retryable && reply.maybe_executed) {
        result.status = OperationStatus::kUnknown;
        return result;
    }
    result.status = OperationStatus::kFailed;
    result.retryable = retryable;
    return result;
}

nlohmann::json PayPalGateway::object_or_throw(const ProviderReply& reply,
                                              const std::string& what) const {
    if (!reply.response) throw UnavailableError("paypal: " + what + ": " + reply.transport_error);
    if (!reply.response->ok()) {
        auto failed = failure_of(reply);
        if (failed.retryable) throw UnavailableError(failed.error);
        throw WorkError(failed.error);
    }
    return reply.response->json();
}

CustomerRef PayPalGateway::save_customer(const CustomerRequest& request) {
    if (request.reference.empty()) {
        throw InputError("paypal: customers are created in PayPal's vault flow; pass its id");
    }
    return CustomerRef{request.reference};
}

PaymentMethodRef PayPalGateway::save_payment_method(const PaymentMethodRequest& request) {
    if (request.token.empty()) throw InputError("paypal: a payment method needs its vault id");
    PaymentMethodRef ref;
    ref.reference = request.token;
    ref.customer_reference = request.customer_reference;
    return ref;
}

GatewayResult PayPalGateway::charge(const ChargeRequest& request) {
    if (request.amount.minor_units() <= 0) throw InputError("paypal: a charge must be positive");
    if (request.idempotency_key.empty()) throw InputError("paypal: a charge needs an idempotency key");
    std::string source = "paypal", vault_id = request.payment_method_reference;
    if (auto colon = vault_id.find(':'); colon != std::string::npos) {
        source = vault_id.substr(0, colon);
        vault_id = vault_id.substr(colon + 1);
    }
    if ((source != "card" && source != "paypal") || vault_id.empty()) {
        throw InputError("paypal: the payment method must be card:<vault_id> or paypal:<vault_id>");
    }
    nlohmann::json unit{
        {"reference_id", "default"},
        {"custom_id", request.idempotency_key.substr(0, 127)},
        {"amount", {{"currency_code", std::string(request.amount.currency().code())},
                    {"value", amount_value(request.amount)}}},
    };
    if (!request.description.empty()) unit["description"] = request.description.substr(0, 127);
    if (auto it = request.metadata.find("invoice_number"); it != request.metadata.end()) {
        unit["invoice_id"] = it->second.substr(0, 127);
    }
    nlohmann::json order_request{
        {"intent", "CAPTURE"},
        {"purchase_units", nlohmann::json::array({unit})},
        {"payment_source", {{source, {{"vault_id", vault_id}}}}},
    };
    auto created = call("POST", "/v2/checkout/orders", order_request,
                        request.idempotency_key + ":create", request.deadline);
    if (!created.response || !created.response->ok()) {
        auto failed = failure_of(created);
        // Creating an order moves no money: a lost answer here is a plain retryable failure.
        if (failed.status == OperationStatus::kUnknown) failed.status = OperationStatus::kFailed;
        return failed;
    }
    auto order = created.response->json();
    std::string order_id = string_at(order, "id");
    // Completed at creation (some vaulted cards), or waiting for the payer: no capture call.
    if (auto done = charge_of_order(order)) return *done;

    auto captured = call("POST", "/v2/checkout/orders/" + http::percent_encode(order_id) + "/capture",
                         nlohmann::json::object(), request.idempotency_key + ":capture",
                         request.deadline);
    if (!captured.response || !captured.response->ok()) {
        auto failed = failure_of(captured);
        failed.provider_id = order_id;  // the reconciler looks the capture up by it
        return failed;
    }
    auto result = charge_of_order(captured.response->json());
    if (!result) {
        GatewayResult odd;
        odd.status = OperationStatus::kUnknown;
        odd.provider_id = order_id;
        odd.error = "paypal: the capture answer has no capture";
        return odd;
    }
    return *result;
}

GatewayResult PayPalGateway::refund(const RefundRequest& request) {
    if (request.charge_reference.empty()) throw InputError("paypal: a refund needs the order id");
    auto order = object_or_throw(call("GET", "/v2/checkout/orders/" +
                                                 http::percent_encode(request.charge_reference),
                                      nullptr, "", request.deadline),
                                 "reading order " + request.charge_reference);
    auto capture = capture_of(order);
    if (capture.is_null() || string_at(capture, "id").empty()) {
        GatewayResult result;
        result.status = OperationStatus::kFailed;
        result.error = "paypal: order " + request.charge_reference + " has no capture to refund";
        return result;
    }
    nlohmann::json body{{"custom_id", request.idempotency_key.substr(0, 127)}};
    if (request.amount) {
        if (request.amount->minor_units() <= 0) throw InputError("paypal: a refund must be positive");
        body["amount"] = {{"currency_code", std::string(request.amount->currency().code())},
                          {"value", amount_value(*request.amount)}};
    }
    if (!request.reason.empty()) body["note_to_payer"] = request.reason.substr(0, 255);
    auto reply = call("POST", "/v2/payments/captures/" +
                                  http::percent_encode(string_at(capture, "id")) + "/refund",
                      body, request.idempotency_key, request.deadline);
    if (!reply.response || !reply.response->ok()) return failure_of(reply);
    auto refund = reply.response->json();
    return status_result(string_at(refund, "status"), string_at(refund, "id"),
                         refund.contains("amount") ? money_of(refund["amount"]) : std::nullopt);
}

GatewayResult PayPalGateway::transfer(const TransferRequest& request) {
    if (request.kind != OperationKind::kPayout) {
        throw InputError("paypal: only payouts (kPayout); PayPal has no connected-account transfers");
    }
    if (request.amount.minor_units() <= 0) throw InputError("paypal: a payout must be positive");
    if (request.destination.empty()) throw InputError("paypal: a payout needs a receiver");
    bool email = request.destination.find('@') != std::string::npos;
    nlohmann::json item{
        {"recipient_type", email ? "EMAIL" : "PAYPAL_ID"},
        {"amount", {{"value", amount_value(request.amount)},
                    {"currency", std::string(request.amount.currency().code())}}},
        {"receiver", request.destination},
        {"sender_item_id", hashed("item-", request.idempotency_key)},
    };
    if (!request.description.empty()) item["note"] = request.description.substr(0, 4000);
    nlohmann::json body{
        {"sender_batch_header",
         {{"sender_batch_id", hashed("batch-", request.idempotency_key)},
          {"email_subject", "You have a payout from ArtistsAid"},
          {"recipient_type", email ? "EMAIL" : "PAYPAL_ID"}}},
        {"items", nlohmann::json::array({item})},
    };
    auto reply = call("POST", "/v1/payments/payouts", body, request.idempotency_key, request.deadline);
    if (!reply.response || !reply.response->ok()) return failure_of(reply);
    auto header = reply.response->json().value("batch_header", nlohmann::json::object());
    return status_result(string_at(header, "batch_status"), string_at(header, "payout_batch_id"),
                         request.amount);
}

std::optional<GatewayResult> PayPalGateway::lookup(const LookupRequest& request) {
    if (request.provider_id.empty()) {
        throw InputError("paypal: PayPal has no lookup by idempotency key; look up by the "
                         "provider id (order, refund or payout batch id)");
    }
    std::string id = http::percent_encode(request.provider_id);
    std::string path;
    switch (request.kind) {
        case OperationKind::kCharge: path = "/v2/checkout/orders/" + id; break;
        case OperationKind::kRefund: path = "/v2/payments/refunds/" + id; break;
        case OperationKind::kPayout: path = "/v1/payments/payouts/" + id; break;
        case OperationKind::kTransfer:
            throw InputError("paypal: PayPal has no connected-account transfers");
    }
    auto reply = call("GET", path, nullptr, "", request.deadline);
    if (reply.response && reply.response->status == 404) return std::nullopt;
    auto body = object_or_throw(reply, "looking up " + request.provider_id);
    if (request.kind == OperationKind::kCharge) return charge_of_order(body);
    if (request.kind == OperationKind::kRefund) {
        return status_result(string_at(body, "status"), string_at(body, "id"),
                             body.contains("amount") ? money_of(body["amount"]) : std::nullopt);
    }
    auto header = body.value("batch_header", nlohmann::json::object());
    std::optional<Money> amount;
    if (header.contains("amount")) amount = money_of(header["amount"]);
    return status_result(string_at(header, "batch_status"), string_at(header, "payout_batch_id"),
                         amount);
}

}  // namespace artistsaid::gateways
