// Twilio: `X-Twilio-Signature` is base64(HMAC-SHA1(auth token, URL + the POST parameters
// sorted by name, each name followed by its value)), where URL is the full URL Twilio
// called (scheme, host, path and query). A JSON body (Content-Type application/json) is
// not in the signed data: Twilio adds `bodySHA256` (hex SHA-256 of the raw body) to the
// URL's query, signs the URL alone, and the body must hash to that value. JSON bodies are
// a status object with the form's field names, or one CloudEvent (Event Streams; an array
// of exactly one is accepted). The event id is Twilio's I-Twilio-Idempotency-Token when
// sent, else the CloudEvent id, else the message or call SID with its status.
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
    std::string signature(const std::string& url,
                          const std::vector<std::pair<std::string, std::string>>& params) const;
    std::string auth_token_;
};

/// application/x-www-form-urlencoded → (name, value) pairs in order; InputError if a
/// percent escape is malformed.
std::vector<std::pair<std::string, std::string>> parse_form(std::string_view body);

}  // namespace artistsaid::http
