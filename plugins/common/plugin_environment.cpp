#include "plugins/common/plugin_environment.hpp"

#include <fstream>
#include <sstream>

#include "engine/core/config.hpp"
#include "engine/core/error.hpp"
#include "engine/core/logging.hpp"

namespace artistsaid::plugins {

PluginEnvironment PluginEnvironment::from_process() {
    return PluginEnvironment(Config::process_env());
}

PluginEnvironment::PluginEnvironment(std::map<std::string, std::string> variables)
    : variables_(std::move(variables)) {}

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
