// The engine's configuration: every setting, where it came from, and how to show it
// without leaking secrets.
//
// Precedence, highest first: command-line flags > environment variables
// (ARTISTSAID_*) > the YAML config file (--config FILE or ARTISTSAID_CONFIG) > built-in
// defaults. Every key is declared once in config_keys(), with its variable, default and
// description; docs and `artistsaid config show` are generated from that table.
// Thread-safety: immutable after load(); safe to share.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace artistsaid {

enum class ConfigSource { kDefault, kFile, kEnv, kFlag };
std::string_view to_string(ConfigSource source) noexcept;

enum class ConfigKind {
    kString,
    kUrl,          // PostgreSQL or Redis URL (checked); shown with its password masked
    kDuration,
    kChoice,
    kPositiveInt,
    kExternalUrl,  // any other URL (not checked here); shown with its password masked
};

struct ConfigKey {
    std::string_view key;           // dotted name, as in the YAML file ("log.level")
    std::string_view env;           // environment variable ("ARTISTSAID_LOG_LEVEL")
    std::string_view default_value; // text form; "" means unset
    ConfigKind kind;
    bool secret;                    // redacted whole in output (URLs redact only the password)
    std::string_view choices;       // for kChoice: "a|b|c"
    std::string_view description;
};

/// Every configuration key the engine knows, in display order.
const std::vector<ConfigKey>& config_keys();

struct ConfigInputs {
    std::optional<std::string> file;           // path of the YAML config file
    std::map<std::string, std::string> env;    // the environment (tests inject their own)
    std::map<std::string, std::string> flags;  // key → value given on the command line
    /// Keys declared above engine/core (the step plugins' and gateways' settings,
    /// plugins/common/plugin_settings.hpp): accepted in the file and read from the
    /// environment with the same precedence, kept apart from the engine's own (extra_entries).
    /// Their strings must outlive the Config (static tables).
    std::vector<ConfigKey> extra_keys;
};

class Config {
public:
    struct Entry {
        std::string key;
        std::string value;
        ConfigSource source = ConfigSource::kDefault;
    };

    /// Reads and validates everything; throws InputError (exit 2) naming the source of a
    /// bad value, with file:line:column for the config file.
    static Config load(const ConfigInputs& inputs);

    /// The current process environment as a map.
    static std::map<std::string, std::string> process_env();

    /// A copy with `key` set to `value` (as if given by a flag), checked like any value:
    /// for a command that finds a setting itself (the demo's own servers).
    Config with(std::string_view key, std::string value) const;

    const std::string& get(std::string_view key) const;
    ConfigSource source(std::string_view key) const;
    std::chrono::milliseconds duration(std::string_view key) const;
    long long integer(std::string_view key) const;

    const std::string& database_url() const { return get("database_url"); }
    const std::string& redis_url() const { return get("redis_url"); }

    /// The value as it may be shown: secrets replaced by "***", URL passwords masked.
    std::string shown(std::string_view key) const;
    const std::vector<Entry>& entries() const { return entries_; }
    /// The values of ConfigInputs::extra_keys, in their order.
    const std::vector<Entry>& extra_entries() const { return extra_entries_; }
    const std::optional<std::string>& file() const { return file_; }

    /// {"file": …, "settings": [{"key", "value", "source"}]} with secrets redacted.
    nlohmann::json to_json() const;

    /// Every secret value in this configuration (passwords inside URLs included), for
    /// the log redactor.
    std::vector<std::string> secret_values() const;

private:
    const Entry& entry(std::string_view key) const;
    const ConfigKey* find(std::string_view key) const;
    std::vector<Entry> entries_;
    std::vector<ConfigKey> extra_keys_;
    std::vector<Entry> extra_entries_;
    std::optional<std::string> file_;
};

/// "postgresql://user:pw@host/db?password=x" → "postgresql://user:***@host/db?password=***".
std::string redact_url(std::string_view url);

/// The password inside a URL's user-info or query, if any.
std::vector<std::string> url_secrets(std::string_view url);

}  // namespace artistsaid
