// What step plugins read from the process: their settings (ARTISTSAID_* variables, or the
// configuration file's keys for them, see plugin_settings.hpp) and secrets (ARTISTSAID_SECRET_<NAME> variables or files in $CREDENTIALS_DIRECTORY, the same
// sources as the workflow's `secrets.*`). A snapshot taken when the plugin is made; tests
// build one from a map. Secrets read through here are registered with the log redactor.
// Thread-safety: immutable after construction; set_config_file_settings() is for the CLI's
// start, before any plugin is made (it takes a lock, so a late call is safe, only useless).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>

namespace artistsaid::plugins {

class PluginEnvironment {
public:
    /// The current process environment over the plugin settings the configuration file gave
    /// (set_config_file_settings): a variable set in the environment wins, as for the
    /// engine's own settings (flag > env > file > default).
    static PluginEnvironment from_process();
    /// Installs the configuration file's plugin settings, by variable name
    /// ({"ARTISTSAID_STORAGE_BACKEND": "s3"}); called once by the CLI after it loaded its
    /// configuration. Never secrets: those come from the environment or credentials only.
    static void set_config_file_settings(std::map<std::string, std::string> variables);
    /// `variables` over `from_file` (a variable in both: its value in `variables`).
    explicit PluginEnvironment(std::map<std::string, std::string> variables,
                               const std::map<std::string, std::string>& from_file = {});

    /// A variable's value; nullopt when unset or empty.
    std::optional<std::string> get(const std::string& name) const;
    std::string get_or(const std::string& name, const std::string& fallback) const;
    /// True when get(name) is the configuration file's value (not the environment's).
    bool from_config_file(const std::string& name) const;
    /// The secret NAME: ARTISTSAID_SECRET_NAME, else $CREDENTIALS_DIRECTORY/NAME.
    std::optional<std::string> secret(const std::string& name) const;
    /// Like secret() but throws InputError naming where it was looked for (never a value).
    std::string required_secret(const std::string& name, const std::string& who) const;

private:
    std::map<std::string, std::string> variables_;
    std::set<std::string> from_file_;
};

}  // namespace artistsaid::plugins
