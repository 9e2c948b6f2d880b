// What every PayPal webhook delivery carries, read once for both ways of verifying it
// (PayPal's verification API, or the signing certificate): the PAYPAL-* headers, checked
// for presence and the replay window, and the event (an object with id and event_type).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "engine/http/http_application.hpp"
#include "engine/http/webhook_verifier.hpp"

namespace artistsaid::http {

struct PayPalDelivery {
    std::string transmission_id;
    std::string transmission_time;
    std::string transmission_sig;  // base64
    std::string cert_url;
    std::string auth_algo;         // "SHA256withRSA"
    nlohmann::json body;           // parsed; the raw text stays in the request
};

/// Reads the headers and the body; WebhookRejected (400 missing/malformed, 401 outside the
/// replay window of `tolerance`).
PayPalDelivery read_paypal_delivery(const Request& request, std::chrono::seconds tolerance);

/// The verified delivery as an event: id, event_type, and resource.id as the key.
WebhookEvent paypal_event(nlohmann::json body);

/// CRC-32 (IEEE 802.3, as zlib's crc32) of `data`: PayPal signs it in decimal.
std::uint32_t crc32(std::string_view data);

}  // namespace artistsaid::http
