#include "engine/http/paypal_delivery.hpp"

#include <array>

#include "engine/core/error.hpp"
#include "engine/http/json_nesting.hpp"
#include "engine/schedule/rfc3339.hpp"

namespace artistsaid::http {

PayPalDelivery read_paypal_delivery(const Request& request, std::chrono::seconds tolerance) {
    auto header = [&](const char* name) {
        auto v = request[name];
        if (v.empty())
            throw WebhookRejected(400, "missing_signature", std::string("no ") + name + " header");
        return std::string(v);
    };
    PayPalDelivery d;
    d.transmission_id = header("PAYPAL-TRANSMISSION-ID");
    d.transmission_time = header("PAYPAL-TRANSMISSION-TIME");
    d.transmission_sig = header("PAYPAL-TRANSMISSION-SIG");
    d.cert_url = header("PAYPAL-CERT-URL");
    d.auth_algo = header("PAYPAL-AUTH-ALGO");
    try {
        auto sent = schedule::parse_rfc3339(d.transmission_time);
        auto now = std::chrono::system_clock::now();
        if (sent < now - tolerance || sent > now + tolerance)
            throw WebhookRejected(401, "stale_timestamp",
                                  "PAYPAL-TRANSMISSION-TIME is outside the replay window");
    } catch (const InputError&) {
        throw WebhookRejected(400, "malformed_signature",
                              "PAYPAL-TRANSMISSION-TIME is not an RFC 3339 time");
    }
    if (json_nesting_exceeds(request.body()))
        throw WebhookRejected(400, "invalid_payload",
                              "the body nests deeper than " + std::to_string(kMaxJsonDepth) +
                                  " levels");
    d.body = nlohmann::json::parse(request.body(), nullptr, false);
    if (!d.body.is_object() || !d.body.contains("id") || !d.body["id"].is_string() ||
        !d.body.contains("event_type") || !d.body["event_type"].is_string())
        throw WebhookRejected(400, "invalid_payload", "a PayPal event needs an id and event_type");
    return d;
}

WebhookEvent paypal_event(nlohmann::json body) {
    WebhookEvent event;
    event.id = body["id"];
    event.type = body["event_type"];
    if (body.contains("resource") && body["resource"].is_object() &&
        body["resource"].contains("id") && body["resource"]["id"].is_string())
        event.key = body["resource"]["id"];
    event.payload = std::move(body);
    return event;
}

std::uint32_t crc32(std::string_view data) {
    static const std::array<std::uint32_t, 256> table = [] {
        std::array<std::uint32_t, 256> t{};
        for (std::uint32_t i = 0; i < 256; ++i) {
            std::uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[i] = c;
        }
        return t;
    }();
    std::uint32_t crc = 0xFFFFFFFFu;
    for (unsigned char byte : data) crc = table[(crc ^ byte) & 0xFFu] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}

}  // namespace artistsaid::http
