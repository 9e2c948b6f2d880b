// Twilio: `X-Twilio-Signature` is base64(HMAC-SHA1(auth token, URL + the POST parameters
// sorted by name, each name followed by its value)), where URL is the full URL Twilio
// called (scheme, host, path and query). The event id is Twilio's
// I-Twilio-Idempotency-Token when sent, else the message or call SID with its status.
#pragma once

#include <map>

#include "engine/http/webhook_verifier.hpp"

namespace artistsaid::http {

class TwilioWebhookVerifier : public WebhookVerifier {
public:
    explicit TwilioWebhookVerifier(std::string auth_token) : auth_token_(std::move(auth_token)) {}
    std::string_view provider() const override { return "twilio"; }
    WebhookEvent verify(const Request& request, const std::string& url) const override;

private:
    std::string auth_token_;
};

/// application/x-www-form-urlencoded → (name, value) pairs in order; InputError if a
/// percent escape is malformed.
std::vector<std::pair<std::string, std::string>> parse_form(std::string_view body);

}  // namespace artistsaid::http
