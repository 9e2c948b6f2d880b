#include "engine/http/stripe_webhook_verifier.hpp"

#include <algorithm>
#include <vector>

#include "engine/http/json_nesting.hpp"
#include "engine/http/signing.hpp"

namespace artistsaid::http {

long long check_timestamp(std::string_view timestamp, std::chrono::seconds tolerance) {
    if (timestamp.empty() || timestamp.size() > 12 ||
        !std::all_of(timestamp.begin(), timestamp.end(), [](char c) { return c >= '0' && c <= '9'; }))
        throw WebhookRejected(400, "malformed_signature", "the timestamp is not a number");
    long long t = std::stoll(std::string(timestamp));
    long long now = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    if (t < now - tolerance.count() || t > now + tolerance.count())
        throw WebhookRejected(401, "stale_timestamp",
                              "the timestamp is outside the replay window of " +
                                  std::to_string(tolerance.count()) + " s");
    return t;
}

WebhookEvent StripeWebhookVerifier::verify(const Request& request, const std::string&) const {
    auto header = request["Stripe-Signature"];
    if (header.empty())
        throw WebhookRejected(400, "missing_signature", "no Stripe-Signature header");
    std::string timestamp;
    std::vector<std::string> signatures;
    std::string_view rest(header.data(), header.size());
    while (!rest.empty()) {
        auto comma = rest.find(',');
        auto item = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        auto eq = item.find('=');
        if (eq == std::string_view::npos) continue;
        auto k = item.substr(0, eq), v = item.substr(eq + 1);
        if (k == "t") timestamp = std::string(v);
        if (k == "v1") signatures.emplace_back(v);
    }
    if (timestamp.empty() || signatures.empty())
        throw WebhookRejected(400, "malformed_signature",
                              "Stripe-Signature needs t= and at least one v1=");
    check_timestamp(timestamp, tolerance_);
    const std::string expected = to_hex(hmac_sha256(secret_, timestamp + "." + request.body()));
    bool match = false;
    for (const auto& s : signatures) match = constant_time_equal(expected, s) || match;
    if (!match)
        throw WebhookRejected(401, "bad_signature", "no v1 signature matches the payload");
    if (json_nesting_exceeds(request.body()))
        throw WebhookRejected(400, "invalid_payload",
                              "the body nests deeper than " + std::to_string(kMaxJsonDepth) +
                                  " levels");
    auto body = nlohmann::json::parse(request.body(), nullptr, false);
    if (!body.is_object() || !body.contains("id") || !body["id"].is_string() ||
        !body.contains("type") || !body["type"].is_string())
        throw WebhookRejected(400, "invalid_payload", "a Stripe event needs a string id and type");
    WebhookEvent event;
    event.id = body["id"];
    event.type = body["type"];
    if (body.contains("data") && body["data"].is_object() && body["data"].contains("object") &&
        body["data"]["object"].is_object() && body["data"]["object"].contains("id") &&
        body["data"]["object"]["id"].is_string())
        event.key = body["data"]["object"]["id"];
    event.payload = std::move(body);
    return event;
}

}  // namespace artistsaid::http
