// PluginSettings: every setting and secret the step plugins and the gateways read from the
// process (PluginEnvironment), declared once — with its key in the configuration file
// ("storage.backend"; precedence env > file > default, like the engine's own settings;
// secrets never come from the file) — so `artistsaid config show` can list them with
// their values — secrets never: a secret shows only whether it is set and where from, and a
// URL shows with its password masked (redact_url) — and the docs can be checked against it.
// Thread-safety: the table is immutable; report() only reads.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/core/config.hpp"
#include "plugins/common/plugin_environment.hpp"

namespace artistsaid::plugins {

struct PluginSetting {
    enum class Kind {
        kText,    // shown as is
        kUrl,     // shown with user info and secret-looking query values masked
        kSecret,  // a secret NAME (ARTISTSAID_SECRET_NAME or $CREDENTIALS_DIRECTORY/NAME)
    };
    std::string_view plugin;       // "email.send", "sms.send", "storage", "exec", "gateways"
    std::string_view name;         // the variable, or the secret's NAME for kSecret
    Kind kind;
    std::string_view default_value;
    std::string_view description;
    std::string_view file_key;     // key in the configuration file; "" for secrets
};

/// One setting as `config show` prints it.
struct PluginSettingValue {
    std::string plugin;
    std::string name;    // ARTISTSAID_SMTP_URL, or "secret TWILIO_AUTH_TOKEN"
    std::string value;   // redacted: "***" for a set secret; "" when unset
    std::string source;  // "env", "file", "credentials", "default" or "unset"
};

class PluginSettings {
public:
    /// Every plugin setting, in display order.
    static const std::vector<PluginSetting>& all();
    /// The settings with a file key, as configuration keys (ConfigInputs::extra_keys), so
    /// Config::load accepts them in the file and resolves env > file > default.
    static const std::vector<ConfigKey>& config_keys();
    /// Their values in `env`, redacted.
    static std::vector<PluginSettingValue> report(const PluginEnvironment& env);
    /// report() as JSON: [{"plugin", "name", "value", "source"}].
    static nlohmann::json report_json(const PluginEnvironment& env);
};

}  // namespace artistsaid::plugins
