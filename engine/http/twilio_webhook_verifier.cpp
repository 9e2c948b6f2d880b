#include "engine/http/twilio_webhook_verifier.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

#include "engine/core/digest.hpp"
#include "engine/core/error.hpp"
#include "engine/http/json_nesting.hpp"
#include "engine/http/signing.hpp"

namespace artistsaid::http {
namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '+') {
            out.push_back(' ');
        } else if (c == '%') {
            if (i + 2 >= text.size()) throw InputError("malformed percent escape");
            int hi = hex_digit(text[i + 1]), lo = hex_digit(text[i + 2]);
            if (hi < 0 || lo < 0) throw InputError("malformed percent escape");
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

bool is_json(const Request& request) {
    auto type = lower(std::string(request[boost::beast::http::field::content_type]));
    return type.rfind("application/json", 0) == 0;
}

// The value of `name` in the URL's query, if present.
std::optional<std::string> query_parameter(const std::string& url, std::string_view name) {
    auto q = url.find('?');
    if (q == std::string::npos) return std::nullopt;
    auto fragment = url.find('#', q);
    std::vector<std::pair<std::string, std::string>> params;
    try {
        params = parse_form(std::string_view(url).substr(
            q + 1, fragment == std::string::npos ? std::string::npos : fragment - q - 1));
    } catch (const InputError&) {
        throw WebhookRejected(400, "invalid_url", "the query string is malformed");
    }
    for (const auto& [k, v] : params)
        if (k == name) return v;
    return std::nullopt;
}

// A JSON field as text (Twilio sends strings; numbers are shown as JSON), "" when absent.
std::string text_field(const nlohmann::json& object, const char* name) {
    auto it = object.find(name);
    if (it == object.end() || it->is_null()) return {};
    return it->is_string() ? it->get<std::string>() : it->dump();
}

// A JSON body: a status object with the form's field names, or one CloudEvent.
nlohmann::json parse_json_body(const std::string& body) {
    if (json_nesting_exceeds(body))
        throw WebhookRejected(400, "invalid_payload",
                              "the body nests deeper than " + std::to_string(kMaxJsonDepth) +
                                  " levels");
    auto payload = nlohmann::json::parse(body, nullptr, false);
    if (payload.is_discarded())
        throw WebhookRejected(400, "invalid_payload", "the JSON body is malformed");
    if (payload.is_array()) {
        if (payload.size() != 1)
            throw WebhookRejected(400, "invalid_payload",
                                  "a JSON delivery must hold one event (got " +
                                      std::to_string(payload.size()) +
                                      "): set the sink's batch size to 1");
        payload = payload[0];
    }
    if (!payload.is_object())
        throw WebhookRejected(400, "invalid_payload", "the JSON body is not an object");
    return payload;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> parse_form(std::string_view body) {
    std::vector<std::pair<std::string, std::string>> out;
    while (!body.empty()) {
        auto amp = body.find('&');
        auto pair = body.substr(0, amp);
        body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
        if (pair.empty()) continue;
        auto eq = pair.find('=');
        out.emplace_back(decode(pair.substr(0, eq)),
                         eq == std::string_view::npos ? std::string() : decode(pair.substr(eq + 1)));
    }
    return out;
}

std::string TwilioWebhookVerifier::signature(
    const std::string& url, const std::vector<std::pair<std::string, std::string>>& params) const {
    // Sorted by name; values of a repeated name keep their order (a stable sort).
    auto sorted = params;
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string data = url;
    for (const auto& [name, value] : sorted) data += name + value;
    return base64_encode(hmac_sha1(auth_token_, data));
}

WebhookEvent TwilioWebhookVerifier::verify(const Request& request, const std::string& url) const {
    auto header = request["X-Twilio-Signature"];
    if (header.empty())
        throw WebhookRejected(400, "missing_signature", "no X-Twilio-Signature header");
    const std::string_view given(header.data(), header.size());
    WebhookEvent event;
    if (is_json(request)) {
        auto hash = query_parameter(url, "bodySHA256");
        if (!hash)
            throw WebhookRejected(400, "missing_body_hash",
                                  "a JSON body needs the bodySHA256 query parameter");
        if (!constant_time_equal(signature(url, {}), given))
            throw WebhookRejected(401, "bad_signature", "X-Twilio-Signature does not match");
        if (!constant_time_equal(sha256_hex(request.body()), lower(*hash)))
            throw WebhookRejected(401, "bad_body_hash", "the body does not match bodySHA256");
        event.payload = parse_json_body(request.body());
    } else {
        std::vector<std::pair<std::string, std::string>> params;
        try {
            params = parse_form(request.body());
        } catch (const InputError&) {
            throw WebhookRejected(400, "invalid_payload", "the form body is malformed");
        }
        if (!constant_time_equal(signature(url, params), given))
            throw WebhookRejected(401, "bad_signature", "X-Twilio-Signature does not match");
        event.payload = nlohmann::json::object();
        for (const auto& [name, value] : params) event.payload[name] = value;
    }

    auto token = request["I-Twilio-Idempotency-Token"];
    if (event.payload.contains("specversion")) {  // a CloudEvent from Event Streams
        const auto& data = event.payload.contains("data") && event.payload["data"].is_object()
                               ? event.payload["data"]
                               : nlohmann::json::object();
        event.key = !text_field(data, "messageSid").empty() ? text_field(data, "messageSid")
                                                            : text_field(data, "callSid");
        std::string type = text_field(event.payload, "type");
        if (type.rfind("com.twilio.", 0) == 0) type = type.substr(11);
        const std::string id = text_field(event.payload, "id");
        if (type.empty() || id.empty())
            throw WebhookRejected(400, "invalid_payload", "the CloudEvent has no id or type");
        // com.twilio.messaging.message.delivered -> message.delivered, as the form's events.
        if (type.rfind("messaging.", 0) == 0) type = type.substr(10);
        if (type.rfind("voice.", 0) == 0) type = type.substr(6);
        event.type = lower(type);
        event.id = !token.empty() ? std::string(token) : id;
        return event;
    }
    const auto& p = event.payload;
    std::string status;
    if (!text_field(p, "CallSid").empty()) {
        event.key = text_field(p, "CallSid");
        status = text_field(p, "CallStatus");
        event.type = "call." + lower(status.empty() ? "received" : status);
    } else if (!text_field(p, "MessageSid").empty() || !text_field(p, "SmsSid").empty()) {
        event.key = !text_field(p, "MessageSid").empty() ? text_field(p, "MessageSid")
                                                         : text_field(p, "SmsSid");
        status = !text_field(p, "MessageStatus").empty() ? text_field(p, "MessageStatus")
                                                         : text_field(p, "SmsStatus");
        event.type = "message." + lower(status.empty() ? "received" : status);
    } else {
        throw WebhookRejected(400, "invalid_payload", "neither a MessageSid nor a CallSid");
    }
    event.id = !token.empty() ? std::string(token) : event.key + ":" + lower(status);
    return event;
}

}  // namespace artistsaid::http
