#include "plugins/common/plugin_environment.hpp"

#include <fstream>
#include <mutex>
#include <sstream>

#include "engine/core/config.hpp"
#include "engine/core/error.hpp"
#include "engine/core/logging.hpp"

namespace artistsaid::plugins {

namespace {

struct ConfigFileSettings {
    std::mutex mutex;
    std::map<std::string, std::string> variables;
};

ConfigFileSettings& config_file_settings() {
    static ConfigFileSettings settings;
    return settings;
}

}  // namespace

PluginEnvironment PluginEnvironment::from_process() {
    auto& file = config_file_settings();
    std::lock_guard lock(file.mutex);
    return PluginEnvironment(Config::process_env(), file.variables);
}

void PluginEnvironment::set_config_file_settings(std::map<std::string, std::string> variables) {
    auto& file = config_file_settings();
    std::lock_guard lock(file.mutex);
    file.variables = std::move(variables);
}

PluginEnvironment::PluginEnvironment(std::map<std::string, std::string> variables,
                                     const std::map<std::string, std::string>& from_file)
    : variables_(std::move(variables)) {
    for (const auto& [name, value] : from_file) {
        if (value.empty()) continue;
        auto it = variables_.find(name);
        if (it != variables_.end() && !it->second.empty()) continue;  // the environment wins
        variables_[name] = value;
        from_file_.insert(name);
    }
}

bool PluginEnvironment::from_config_file(const std::string& name) const {
    return from_file_.count(name) > 0;
}

std::optional<std::string> PluginEnvironment::get(const std::string& name) const {
    auto it = variables_.find(name);
    if (it == variables_.end() || it->second.empty()) return std::nullopt;
    return it->second;
}

std::string PluginEnvironment::get_or(const std::string& name, const std::string& fallback) const {
    return get(name).value_or(fallback);
}

std::optional<std::string> PluginEnvironment::secret(const std::string& name) const {
    std::optional<std::string> value = get("ARTISTSAID_SECRET_" + name);
    if (!value) {
        if (auto dir = get("CREDENTIALS_DIRECTORY")) {
            if (name.find('/') == std::string::npos && name.find("..") == std::string::npos) {
                std::ifstream in(*dir + "/" + name, std::ios::binary);
                if (in) {
                    std::stringstream text;
                    text << in.rdbuf();
                    std::string v = text.str();
                    while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
                    if (!v.empty()) value = v;
                }
            }
        }
    }
    if (value) logging::add_secret(*value);
    return value;
}

std::string PluginEnvironment::required_secret(const std::string& name, const std::string& who) const {
    if (auto v = secret(name)) return *v;
    throw InputError(who + ": secret " + name + " is not set (ARTISTSAID_SECRET_" + name +
                     " or $CREDENTIALS_DIRECTORY/" + name + ")");
}

}  // namespace artistsaid::plugins
