#include "engine/http/webhook_verifiers.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include "engine/http/generic_webhook_verifier.hpp"
#include "engine/http/paypal_certificate_verifier.hpp"
#include "engine/http/paypal_webhook_verifier.hpp"
#include "engine/http/stripe_webhook_verifier.hpp"
#include "engine/http/twilio_webhook_verifier.hpp"

namespace artistsaid::http {
namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

bool valid_hook_name(const std::string& name) {
    if (name.empty() || name.size() > 64 || !(name[0] >= 'a' && name[0] <= 'z')) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
}

}  // namespace

std::string find_secret(const nlohmann::json& secrets, const std::string& upper_name) {
    for (const auto& name : {upper_name, lower(upper_name)}) {
        auto it = secrets.find(name);
        if (it != secrets.end() && it->is_string() && !it->get<std::string>().empty())
            return *it;
    }
    return {};
}

WebhookVerifiers::WebhookVerifiers(const WebhookSettings& s) {
    if (auto secret = find_secret(s.secrets, "STRIPE_WEBHOOK_SECRET"); !secret.empty())
        builtin_["stripe"] = std::make_unique<StripeWebhookVerifier>(secret, s.tolerance);
    if (auto token = find_secret(s.secrets, "TWILIO_AUTH_TOKEN"); !token.empty())
        builtin_["twilio"] = std::make_unique<TwilioWebhookVerifier>(token);
    PayPalCredentials paypal{s.paypal_api_url, find_secret(s.secrets, "PAYPAL_CLIENT_ID"),
                             find_secret(s.secrets, "PAYPAL_CLIENT_SECRET"),
                             find_secret(s.secrets, "PAYPAL_WEBHOOK_ID")};
    while (!paypal.api_url.empty() && paypal.api_url.back() == '/') paypal.api_url.pop_back();
    if (s.paypal_verification == "certificate" && !paypal.webhook_id.empty()) {
        PayPalCertificateSettings offline;
        offline.webhook_id = paypal.webhook_id;
        if (!s.paypal_cert_url_prefixes.empty())
            offline.trusted_url_prefixes = s.paypal_cert_url_prefixes;
        offline.ca_file = s.paypal_ca_file;
        offline.fetch_timeout = s.call_timeout;
        builtin_["paypal"] = std::make_unique<PayPalCertificateVerifier>(offline, s.tolerance);
    } else if (!paypal.client_id.empty() && !paypal.client_secret.empty() &&
               !paypal.webhook_id.empty()) {
        builtin_["paypal"] =
            std::make_unique<PayPalWebhookVerifier>(paypal, s.tolerance, s.call_timeout);
    }
    const std::string prefix = "webhook_secret_";
    for (const auto& [key, value] : s.secrets.items()) {
        std::string k = lower(key);
        if (k.rfind(prefix, 0) != 0 || !value.is_string() || value.get<std::string>().empty())
            continue;
        std::string name = k.substr(prefix.size());
        if (!valid_hook_name(name) || name == "stripe" || name == "paypal" || name == "twilio") {
            spdlog::warn("secret {} does not name a usable generic hook (a-z, 0-9, _ and -, "
                         "not a built-in provider); ignored",
                         key);
            continue;
        }
        generic_[name] = std::make_unique<GenericWebhookVerifier>(name, value, s.tolerance);
    }
}

const WebhookVerifier* WebhookVerifiers::find(const std::string& provider) const {
    auto it = builtin_.find(provider);
    return it == builtin_.end() ? nullptr : it->second.get();
}

const WebhookVerifier* WebhookVerifiers::find_generic(const std::string& name) const {
    auto it = generic_.find(name);
    return it == generic_.end() ? nullptr : it->second.get();
}

std::vector<std::string> WebhookVerifiers::served() const {
    std::vector<std::string> out;
    for (const auto& [name, v] : builtin_) out.push_back(name);
    for (const auto& [name, v] : generic_) out.push_back("generic/" + name);
    return out;
}

}  // namespace artistsaid::http
