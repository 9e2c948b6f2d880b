#include "gateways/stripe/stripe_gateway.hpp"

#include <algorithm>

#include "engine/core/error.hpp"
#include "engine/core/logging.hpp"
#include "engine/http/http_retry_policy.hpp"
#include "gateways/provider_call.hpp"
#include "gateways/stripe/stripe_amount.hpp"

namespace artistsaid::gateways {

namespace {

using Clock = std::chrono::system_clock;

std::string upper(std::string text) {
    for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return text;
}

void add_metadata(http::HeaderList& form, const Metadata& metadata, const std::string& key) {
    for (const auto& [k, v] : metadata) {
        if (k == "idempotency_key") continue;
        form.emplace_back("metadata[" + k + "]", v);
    }
    form.emplace_back("metadata[idempotency_key]", key);
}

std::optional<Money> amount_of(const nlohmann::json& object) {
    if (!object.contains("amount") || !object["amount"].is_number_integer() ||
        !object.contains("currency") || !object["currency"].is_string()) {
        return std::nullopt;
    }
    auto currency = Currency::find(upper(object["currency"].get<std::string>()));
    if (!currency) return std::nullopt;
    return StripeAmount::from_stripe(object["amount"].get<std::int64_t>(), *currency);
}

std::string string_at(const nlohmann::json& object, const char* key) {
    if (!object.is_object() || !object.contains(key) || !object[key].is_string()) return "";
    return object[key].get<std::string>();
}

std::string collection_of(OperationKind kind) {
    switch (kind) {
        case OperationKind::kCharge: return "payment_intents";
        case OperationKind::kRefund: return "refunds";
        case OperationKind::kTransfer: return "transfers";
        case OperationKind::kPayout: return "payouts";
    }
    return "payment_intents";
}

// An object's status as ours (PaymentIntent, Refund, Transfer, Payout).
GatewayResult status_of(const nlohmann::json& object, OperationKind kind) {
    GatewayResult result;
    result.provider_id = string_at(object, "id");
    result.amount = amount_of(object);
    std::string status = string_at(object, "status");
    if (kind == OperationKind::kTransfer) {
        bool reversed = object.value("reversed", false);
        result.status = reversed ? OperationStatus::kFailed : OperationStatus::kSucceeded;
        if (reversed) result.error = "stripe: the transfer was reversed";
        return result;
    }
    if (status == "succeeded" || status == "paid") {
        result.status = OperationStatus::kSucceeded;
    } else if (status == "processing" || status == "pending" || status == "in_transit" ||
               status == "requires_capture" || status == "requires_confirmation") {
        result.status = OperationStatus::kPending;
    } else if (status == "requires_action") {
        result.status = OperationStatus::kRequiresAction;
        result.error = "stripe: the customer must authenticate";
    } else if (status == "requires_payment_method") {
        const auto& last = object.contains("last_payment_error") ? object["last_payment_error"]
                                                                 : nlohmann::json();
        std::string code = string_at(last, "decline_code");
        if (code.empty()) code = string_at(last, "code");
        if (code == "authentication_required") {
            result.status = OperationStatus::kRequiresAction;
            result.decline_code = code;
        } else if (!code.empty()) {
            result.status = OperationStatus::kDeclined;
            result.decline_code = code;
        } else {
            result.status = OperationStatus::kFailed;
        }
        result.error = "stripe: " + string_at(last, "message");
    } else {  // canceled, failed
        result.status = OperationStatus::kFailed;
        std::string code = string_at(object, "failure_code");
        result.error = "stripe: " + result.provider_id + " is " + status +
                       (code.empty() ? "" : " (" + code + ")");
    }
    return result;
}

// Stripe search syntax: a string value in single quotes, with \ and ' escaped.
std::string search_literal(const std::string& value) {
    std::string out = "'";
    for (char c : value) {
        if (c == '\'' || c == '\\') out += '\\';
        out += c;
    }
    return out + "'";
}

// Stripe-Should-Retry decides when present; otherwise conflicts, rate limits and 5xx.
bool stripe_retryable(const http::HttpResponse& response) {
    if (auto should = response.header("stripe-should-retry")) return *should == "true";
    return response.status == 409 || response.status == 429 || response.status >= 500;
}

}  // namespace

StripeGateway::StripeGateway(StripeSettings settings, const http::HttpClient& client,
                             Sleeper sleeper)
    : settings_(std::move(settings)), client_(client), sleeper_(std::move(sleeper)) {
    if (settings_.api_key.empty()) throw InputError("stripe: no API key (secret) configured");
    if (settings_.base_url.empty()) throw InputError("stripe: no base_url configured");
    while (!settings_.base_url.empty() && settings_.base_url.back() == '/') {
        settings_.base_url.pop_back();
    }
    logging::add_secret(settings_.api_key);
}

std::string StripeGateway::clean(std::string text) const {
    for (auto at = text.find(settings_.api_key); at != std::string::npos;
         at = text.find(settings_.api_key)) {
        text.replace(at, settings_.api_key.size(), "***");
    }
    return logging::redact(text);
}

StripeGateway::Reply StripeGateway::send(const std::string& method, const std::string& path,
                                         const http::HeaderList& form,
                                         const std::string& idempotency_key,
                                         Clock::time_point deadline) const {
    http::HttpRequest request;
    request.method = method;
    request.url = settings_.base_url + path;
    request.bearer(settings_.api_key);
    request.header("Stripe-Version", settings_.api_version);
    if (method == "POST") {
        request.header("Idempotency-Key", idempotency_key);
        request.form(form);
    }
    request.ca_file = settings_.ca_file;
    ProviderRetry retry{settings_.max_attempts, settings_.attempt_timeout, settings_.base_delay,
                        settings_.max_delay};
    auto reply = ProviderCall::send(client_, request, deadline, retry, stripe_retryable, sleeper_);
    reply.transport_error = clean(reply.transport_error);
    return reply;
}

GatewayResult StripeGateway::result_of(const Reply& reply, OperationKind kind) const {
    GatewayResult result;
    if (!reply.response) {
        result.status = reply.maybe_executed ? OperationStatus::kUnknown : OperationStatus::kFailed;
        result.retryable = true;
        result.error = reply.transport_error;
        return result;
    }
    const auto& response = *reply.response;
    nlohmann::json body;
    try {
        body = response.json();
    } catch (const Error&) {
        body = nlohmann::json::object();
    }
    if (response.ok()) return status_of(body, kind);

    const auto& error = body.contains("error") ? body["error"] : nlohmann::json::object();
    std::string type = string_at(error, "type"), code = string_at(error, "code");
    result.error = clean("stripe: " + std::to_string(response.status) + " " + type + ": " +
                         string_at(error, "message"));
    if (error.contains("payment_intent") && error["payment_intent"].is_object()) {
        result.provider_id = string_at(error["payment_intent"], "id");
        result.amount = amount_of(error["payment_intent"]);
    }
    if (type == "card_error") {
        std::string decline = string_at(error, "decline_code");
        result.decline_code = decline.empty() ? code : decline;
        result.status = code == "authentication_required" ? OperationStatus::kRequiresAction
                                                          : OperationStatus::kDeclined;
        return result;
    }
    bool retryable = stripe_retryable(response);
    // A lost answer earlier, then a failure that is not an answer: it may have happened.
    if (retryable && reply.maybe_executed) {
        result.status = OperationStatus::kUnknown;
        return result;
    }
    result.status = OperationStatus::kFailed;
    result.retryable = retryable;
    if (auto value = response.header("retry-after")) {
        result.retry_after = http::parse_retry_after(*value, Clock::now());
    }
    return result;
}

nlohmann::json StripeGateway::object_or_throw(const Reply& reply, const std::string& what) const {
    if (!reply.response) throw UnavailableError("stripe: " + what + ": " + reply.transport_error);
    if (!reply.response->ok()) {
        auto failed = result_of(reply, OperationKind::kCharge);
        if (failed.retryable) throw UnavailableError(failed.error);
        throw WorkError(failed.error);
    }
    return reply.response->json();
}

CustomerRef StripeGateway::save_customer(const CustomerRequest& request) {
    http::HeaderList form;
    if (!request.name.empty()) form.emplace_back("name", request.name);
    if (!request.email.empty()) form.emplace_back("email", request.email);
    add_metadata(form, request.metadata, request.idempotency_key);
    std::string path = request.reference.empty()
                           ? "/v1/customers"
                           : "/v1/customers/" + http::percent_encode(request.reference);
    auto body = object_or_throw(send("POST", path, form, request.idempotency_key, request.deadline),
                                "saving a customer");
    return CustomerRef{string_at(body, "id")};
}

PaymentMethodRef StripeGateway::save_payment_method(const PaymentMethodRequest& request) {
    if (request.customer_reference.empty() || request.token.empty()) {
        throw InputError("stripe: a payment method needs a customer and a pm_ token");
    }
    auto body = object_or_throw(
        send("POST", "/v1/payment_methods/" + http::percent_encode(request.token) + "/attach",
             {{"customer", request.customer_reference}}, request.idempotency_key,
             request.deadline),
        "attaching a payment method");
    if (request.make_default) {
        object_or_throw(send("POST", "/v1/customers/" + http::percent_encode(request.customer_reference),
                             {{"invoice_settings[default_payment_method]", request.token}},
                             request.idempotency_key + ":default", request.deadline),
                        "making a payment method the default");
    }
    PaymentMethodRef ref;
    ref.reference = string_at(body, "id");
    ref.customer_reference = request.customer_reference;
    if (body.contains("card") && body["card"].is_object()) {
        const auto& card = body["card"];
        ref.brand = string_at(card, "brand");
        ref.last4 = string_at(card, "last4");
        ref.exp_month = card.value("exp_month", 0);
        ref.exp_year = card.value("exp_year", 0);
    }
    return ref;
}

GatewayResult StripeGateway::charge(const ChargeRequest& request) {
    if (request.amount.minor_units() <= 0) throw InputError("stripe: a charge must be positive");
    if (request.idempotency_key.empty()) throw InputError("stripe: a charge needs an idempotency key");
    http::HeaderList form{
        {"amount", std::to_string(StripeAmount::to_stripe(request.amount))},
        {"currency", StripeAmount::code(request.amount.currency())},
        {"confirm", "true"},
        {"off_session", "true"},
        {"payment_method", request.payment_method_reference},
    };
    if (!request.customer_reference.empty()) form.emplace_back("customer", request.customer_reference);
    if (!request.description.empty()) form.emplace_back("description", request.description);
    add_metadata(form, request.metadata, request.idempotency_key);
    return result_of(send("POST", "/v1/payment_intents", form, request.idempotency_key,
                          request.deadline),
                     OperationKind::kCharge);
}

GatewayResult StripeGateway::refund(const RefundRequest& request) {
    if (request.charge_reference.empty()) throw InputError("stripe: a refund needs the charge's pi_ id");
    http::HeaderList form{{"payment_intent", request.charge_reference}};
    if (request.amount) {
        if (request.amount->minor_units() <= 0) throw InputError("stripe: a refund must be positive");
        form.emplace_back("amount", std::to_string(StripeAmount::to_stripe(*request.amount)));
    }
    // Stripe's reasons are an enum; anything else travels as metadata.
    if (request.reason == "duplicate" || request.reason == "fraudulent" ||
        request.reason == "requested_by_customer") {
        form.emplace_back("reason", request.reason);
    }
    add_metadata(form, request.metadata, request.idempotency_key);
    return result_of(send("POST", "/v1/refunds", form, request.idempotency_key, request.deadline),
                     OperationKind::kRefund);
}

GatewayResult StripeGateway::transfer(const TransferRequest& request) {
    if (request.amount.minor_units() <= 0) throw InputError("stripe: a transfer must be positive");
    bool payout = request.kind == OperationKind::kPayout;
    if (!payout && request.kind != OperationKind::kTransfer) {
        throw InputError("stripe: transfer() takes kTransfer or kPayout");
    }
    if (!payout && request.destination.rfind("acct_", 0) != 0) {
        throw InputError("stripe: a transfer goes to a connected account (acct_...)");
    }
    http::HeaderList form{
        {"amount", std::to_string(StripeAmount::to_stripe(request.amount))},
        {"currency", StripeAmount::code(request.amount.currency())},
    };
    if (!request.destination.empty()) form.emplace_back("destination", request.destination);
    if (!request.description.empty()) form.emplace_back("description", request.description);
    add_metadata(form, request.metadata, request.idempotency_key);
    return result_of(send("POST", payout ? "/v1/payouts" : "/v1/transfers", form,
                          request.idempotency_key, request.deadline),
                     request.kind);
}

std::optional<GatewayResult> StripeGateway::lookup(const LookupRequest& request) {
    const std::string collection = collection_of(request.kind);
    if (!request.provider_id.empty()) {
        auto reply = send("GET", "/v1/" + collection + "/" + http::percent_encode(request.provider_id),
                          {}, "", request.deadline);
        if (reply.response && reply.response->status == 404) return std::nullopt;
        return status_of(object_or_throw(reply, "looking up " + request.provider_id), request.kind);
    }
    if (request.idempotency_key.empty()) {
        throw InputError("stripe: a lookup needs an idempotency key or a provider id");
    }
    auto matches = [&](const nlohmann::json& object) {
        return object.contains("metadata") && object["metadata"].is_object() &&
               string_at(object["metadata"], "idempotency_key") == request.idempotency_key;
    };
    if (request.kind == OperationKind::kCharge) {
        std::string query = "metadata['idempotency_key']:" + search_literal(request.idempotency_key);
        auto body = object_or_throw(
            send("GET", "/v1/payment_intents/search?query=" + http::percent_encode(query), {}, "",
                 request.deadline),
            "searching payment intents");
        for (const auto& object : body.value("data", nlohmann::json::array())) {
            if (matches(object)) return status_of(object, request.kind);
        }
        return std::nullopt;
    }
    std::string after;
    for (int page = 0; page < settings_.lookup_pages; ++page) {
        std::string path = "/v1/" + collection + "?limit=100" +
                           (after.empty() ? "" : "&starting_after=" + http::percent_encode(after));
        auto body = object_or_throw(send("GET", path, {}, "", request.deadline),
                                    "listing " + collection);
        const auto& data = body.value("data", nlohmann::json::array());
        for (const auto& object : data) {
            if (matches(object)) return status_of(object, request.kind);
        }
        if (!body.value("has_more", false) || data.empty()) return std::nullopt;
        after = string_at(data.back(), "id");
    }
    // Not in the newest pages: older than anything the reconciler still looks for.
    return std::nullopt;
}

}  // namespace artistsaid::gateways
