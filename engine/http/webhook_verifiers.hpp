// The webhook verifiers the server knows, built in one visible place from the secrets:
// a provider without its secret is not served (its hook answers 404).
//   stripe   STRIPE_WEBHOOK_SECRET (the endpoint's whsec_… signing secret)
//   twilio   TWILIO_AUTH_TOKEN
//   paypal   PAYPAL_WEBHOOK_ID, and PAYPAL_CLIENT_ID + PAYPAL_CLIENT_SECRET for the
//            verification API (paypal_verification "api", the default); "certificate"
//            verifies offline with PayPal's signing certificate and needs only the id
//   generic  WEBHOOK_SECRET_<NAME> serves /hooks/generic/<name> (name in lower case)
// Secrets come from ARTISTSAID_SECRET_<NAME> variables or systemd credentials named in
// lower case (runtime::load_env_and_secrets).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/http/webhook_verifier.hpp"

namespace artistsaid::http {

struct WebhookSettings {
    std::chrono::seconds tolerance{300};
    std::string paypal_api_url = "https://api-m.paypal.com";
    std::string paypal_verification = "api";  // or "certificate"
    std::vector<std::string> paypal_cert_url_prefixes;  // empty: PayPal's API hosts (https)
    std::string paypal_ca_file;                         // empty: the system's trust store
    std::chrono::milliseconds call_timeout{std::chrono::seconds(10)};
    nlohmann::json secrets = nlohmann::json::object();
};

class WebhookVerifiers {
public:
    explicit WebhookVerifiers(const WebhookSettings& settings);

    /// The verifier of /hooks/<provider> (or /hooks/generic/<name>); null if not served.
    const WebhookVerifier* find(const std::string& provider) const;
    const WebhookVerifier* find_generic(const std::string& name) const;
    /// "stripe", "generic/partner", … for the startup log.
    std::vector<std::string> served() const;

private:
    std::map<std::string, std::unique_ptr<WebhookVerifier>> builtin_;
    std::map<std::string, std::unique_ptr<WebhookVerifier>> generic_;
};

/// A secret by name, as ARTISTSAID_SECRET_<NAME> or a credential file <name>; "" if unset.
std::string find_secret(const nlohmann::json& secrets, const std::string& upper_name);

}  // namespace artistsaid::http
