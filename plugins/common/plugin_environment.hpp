// What step plugins read from the process: their settings (ARTISTSAID_* variables) and
// secrets (ARTISTSAID_SECRET_<NAME> variables or files in $CREDENTIALS_DIRECTORY, the same
// sources as the workflow's `secrets.*`). A snapshot taken when the plugin is made; tests
// build one from a map. Secrets read through here are registered with the log redactor.
// Thread-safety: immutable after construction.
#pragma once

#include <map>
#include <optional>
#include <string>

namespace artistsaid::plugins {

class PluginEnvironment {
public:
    /// The current process environment.
    static PluginEnvironment from_process();
    explicit PluginEnvironment(std::map<std::string, std::string> variables);

    /// A variable's value; nullopt when unset or empty.
    std::optional<std::string> get(const std::string& name) const;
    std::string get_or(const std::string& name, const std::string& fallback) const;
    /// The secret NAME: ARTISTSAID_SECRET_NAME, else $CREDENTIALS_DIRECTORY/NAME.
    std::optional<std::string> secret(const std::string& name) const;
    /// Like secret() but throws InputError naming where it was looked for (never a value).
    std::string required_secret(const std::string& name, const std::string& who) const;

private:
    std::map<std::string, std::string> variables_;
};

}  // namespace artistsaid::plugins
