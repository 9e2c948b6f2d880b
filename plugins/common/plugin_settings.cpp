#include "plugins/common/plugin_settings.hpp"

#include "engine/core/config.hpp"

namespace artistsaid::plugins {

using Kind = PluginSetting::Kind;

const std::vector<PluginSetting>& PluginSettings::all() {
    static const std::vector<PluginSetting> settings = {
        {"email.send", "ARTISTSAID_SMTP_URL", Kind::kUrl, "",
         "SMTP server, smtp://host:port or smtps://host:port (else the outbox directory)", "email.smtp_url"},
        {"email.send", "ARTISTSAID_SMTP_TLS", Kind::kText, "if_offered",
         "STARTTLS: if_offered or required", "email.smtp_tls"},
        {"email.send", "ARTISTSAID_SMTP_USERNAME", Kind::kText, "", "SMTP AUTH user", "email.smtp_username"},
        {"email.send", "SMTP_PASSWORD", Kind::kSecret, "", "SMTP AUTH password", ""},
        {"email.send", "ARTISTSAID_SMTP_CA_FILE", Kind::kText, "", "CA bundle for the SMTP server", "email.smtp_ca_file"},
        {"email.send", "ARTISTSAID_EMAIL_OUTBOX_DIR", Kind::kText, "",
         "write messages as .eml files here instead of sending (no SMTP URL)", "email.outbox_dir"},
        {"email.send", "ARTISTSAID_EMAIL_FROM", Kind::kText, "", "default sender address", "email.from"},
        {"email.send", "ARTISTSAID_EMAIL_FROM_NAME", Kind::kText, "", "default sender name", "email.from_name"},
        {"email.send", "ARTISTSAID_EMAIL_TEMPLATES_DIR", Kind::kText, "",
         "directory of the e-mail templates (default: the installed templates/email)", "email.templates_dir"},
        {"sms.send", "ARTISTSAID_TWILIO_BASE_URL", Kind::kUrl, "https://api.twilio.com",
         "Twilio's API base", "sms.twilio_base_url"},
        {"sms.send", "TWILIO_ACCOUNT_SID", Kind::kSecret, "", "Twilio account SID (AC...)", ""},
        {"sms.send", "TWILIO_AUTH_TOKEN", Kind::kSecret, "",
         "Twilio auth token (also checks /hooks/twilio signatures)", ""},
        {"sms.send", "ARTISTSAID_TWILIO_FROM", Kind::kText, "", "default sender number (E.164)", "sms.twilio_from"},
        {"sms.send", "ARTISTSAID_TWILIO_MESSAGING_SERVICE_SID", Kind::kText, "",
         "default messaging service (MG...) instead of a sender number", "sms.twilio_messaging_service_sid"},
        {"sms.send", "ARTISTSAID_TWILIO_STATUS_CALLBACK", Kind::kUrl, "",
         "status callback URL (default: ARTISTSAID_HTTP_PUBLIC_URL + /hooks/twilio)", "sms.twilio_status_callback"},
        {"storage", "ARTISTSAID_STORAGE_BACKEND", Kind::kText, "local", "local or s3", "storage.backend"},
        {"storage", "ARTISTSAID_STORAGE_DIR", Kind::kText, "", "root directory of the local backend", "storage.dir"},
        {"storage", "ARTISTSAID_S3_ENDPOINT", Kind::kUrl, "", "S3 endpoint (https://...)", "storage.s3_endpoint"},
        {"storage", "ARTISTSAID_S3_BUCKET", Kind::kText, "", "S3 bucket", "storage.s3_bucket"},
        {"storage", "ARTISTSAID_S3_REGION", Kind::kText, "us-east-1", "S3 region (SigV4)", "storage.s3_region"},
        {"storage", "S3_ACCESS_KEY_ID", Kind::kSecret, "", "S3 access key id", ""},
        {"storage", "S3_SECRET_ACCESS_KEY", Kind::kSecret, "", "S3 secret access key", ""},
        {"storage", "ARTISTSAID_S3_CA_FILE", Kind::kText, "", "CA bundle for the S3 endpoint", "storage.s3_ca_file"},
        {"exec", "ARTISTSAID_EXEC_DIR", Kind::kText, "",
         "the only directory exec may run programs from (unset: exec is off)", "exec.dir"},
        {"gateways", "ARTISTSAID_GATEWAYS_FILE", Kind::kText, "",
         "payment gateways configuration (examples/gateways.yaml)", "gateways.file"},
        {"gateways", "STRIPE_API_KEY", Kind::kSecret, "", "Stripe secret key (stripe.api_key_secret)", ""},
        {"gateways", "PAYPAL_CLIENT_ID", Kind::kSecret, "", "PayPal client id (paypal.client_id_secret)", ""},
        {"gateways", "PAYPAL_CLIENT_SECRET", Kind::kSecret, "",
         "PayPal client secret (paypal.client_secret_secret)", ""},
        {"webhooks", "STRIPE_WEBHOOK_SECRET", Kind::kSecret, "", "Stripe webhook signing secret", ""},
        {"webhooks", "PAYPAL_WEBHOOK_ID", Kind::kSecret, "", "PayPal webhook id (verify API)", ""},
    };
    return settings;
}

std::vector<PluginSettingValue> PluginSettings::report(const PluginEnvironment& env) {
    std::vector<PluginSettingValue> out;
    for (const auto& s : all()) {
        PluginSettingValue v{std::string(s.plugin), std::string(s.name), "", "unset"};
        if (s.kind == Kind::kSecret) {
            v.name = "secret " + v.name;
            if (env.get("ARTISTSAID_SECRET_" + std::string(s.name))) {
                v.value = "***";
                v.source = "env";
            } else if (env.secret(std::string(s.name))) {
                v.value = "***";
                v.source = "credentials";
            }
        } else if (auto value = env.get(std::string(s.name))) {
            v.value = s.kind == Kind::kUrl ? redact_url(*value) : *value;
            v.source = env.from_config_file(std::string(s.name)) ? "file" : "env";
        } else if (!s.default_value.empty()) {
            v.value = std::string(s.default_value);
            v.source = "default";
        }
        out.push_back(std::move(v));
    }
    return out;
}

const std::vector<ConfigKey>& PluginSettings::config_keys() {
    static const std::vector<ConfigKey> keys = [] {
        std::vector<ConfigKey> out;
        for (const auto& s : all()) {
            if (s.file_key.empty()) continue;  // secrets: never from the configuration file
            out.push_back({s.file_key, s.name, s.default_value,
                           s.kind == Kind::kUrl ? ConfigKind::kExternalUrl : ConfigKind::kString,
                           false, "", s.description});
        }
        return out;
    }();
    return keys;
}

nlohmann::json PluginSettings::report_json(const PluginEnvironment& env) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& v : report(env))
        out.push_back({{"plugin", v.plugin}, {"name", v.name}, {"value", v.value}, {"source", v.source}});
    return out;
}

}  // namespace artistsaid::plugins
