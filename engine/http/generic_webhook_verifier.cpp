#include "engine/http/generic_webhook_verifier.hpp"

#include "engine/http/json_nesting.hpp"
#include "engine/http/signing.hpp"
#include "engine/http/stripe_webhook_verifier.hpp"

namespace artistsaid::http {

WebhookEvent GenericWebhookVerifier::verify(const Request& request, const std::string&) const {
    auto timestamp = request["X-Webhook-Timestamp"];
    auto signature = request["X-Webhook-Signature"];
    if (timestamp.empty() || signature.empty())
        throw WebhookRejected(400, "missing_signature",
                              "X-Webhook-Timestamp and X-Webhook-Signature are required");
    check_timestamp(std::string_view(timestamp.data(), timestamp.size()), window_);
    std::string_view given(signature.data(), signature.size());
    if (given.substr(0, 7) == "sha256=") given.remove_prefix(7);
    const std::string expected =
        to_hex(hmac_sha256(secret_, std::string(timestamp) + "." + request.body()));
    if (!constant_time_equal(expected, given))
        throw WebhookRejected(401, "bad_signature", "X-Webhook-Signature does not match");
    if (json_nesting_exceeds(request.body()))
        throw WebhookRejected(400, "invalid_payload",
                              "the body nests deeper than " + std::to_string(kMaxJsonDepth) +
                                  " levels");
    auto body = nlohmann::json::parse(request.body(), nullptr, false);
    if (!body.is_object() || !body.contains("id") || !body["id"].is_string() ||
        body["id"].get<std::string>().empty() || !body.contains("type") ||
        !body["type"].is_string())
        throw WebhookRejected(400, "invalid_payload",
                              "the body must be a JSON object with a string id and type");
    WebhookEvent event;
    event.id = body["id"];
    event.type = body["type"];
    if (body.contains("key") && body["key"].is_string()) event.key = body["key"];
    event.payload = std::move(body);
    return event;
}

}  // namespace artistsaid::http
