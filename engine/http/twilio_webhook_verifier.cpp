#include "engine/http/twilio_webhook_verifier.hpp"

#include <algorithm>
#include <cctype>

#include "engine/core/error.hpp"
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

WebhookEvent TwilioWebhookVerifier::verify(const Request& request, const std::string& url) const {
    auto header = request["X-Twilio-Signature"];
    if (header.empty())
        throw WebhookRejected(400, "missing_signature", "no X-Twilio-Signature header");
    std::vector<std::pair<std::string, std::string>> params;
    try {
        params = parse_form(request.body());
    } catch (const InputError&) {
        throw WebhookRejected(400, "invalid_payload", "the form body is malformed");
    }
    // Sorted by name; values of a repeated name keep their order (a stable sort).
    auto sorted = params;
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string data = url;
    for (const auto& [name, value] : sorted) data += name + value;
    const std::string expected = base64_encode(hmac_sha1(auth_token_, data));
    if (!constant_time_equal(expected, std::string_view(header.data(), header.size())))
        throw WebhookRejected(401, "bad_signature", "X-Twilio-Signature does not match");

    WebhookEvent event;
    event.payload = nlohmann::json::object();
    for (const auto& [name, value] : params) event.payload[name] = value;
    auto field = [&](const char* name) -> std::string {
        auto it = event.payload.find(name);
        return it == event.payload.end() ? std::string() : it->get<std::string>();
    };
    std::string status;
    if (!field("CallSid").empty()) {
        event.key = field("CallSid");
        status = field("CallStatus");
        event.type = "call." + lower(status.empty() ? "received" : status);
    } else if (!field("MessageSid").empty() || !field("SmsSid").empty()) {
        event.key = !field("MessageSid").empty() ? field("MessageSid") : field("SmsSid");
        status = !field("MessageStatus").empty() ? field("MessageStatus") : field("SmsStatus");
        event.type = "message." + lower(status.empty() ? "received" : status);
    } else {
        throw WebhookRejected(400, "invalid_payload", "neither a MessageSid nor a CallSid");
    }
    auto token = request["I-Twilio-Idempotency-Token"];
    event.id = !token.empty() ? std::string(token) : event.key + ":" + lower(status);
    return event;
}

}  // namespace artistsaid::http
