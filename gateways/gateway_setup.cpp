#include "gateways/gateway_setup.hpp"

#include <yaml-cpp/yaml.h>

#include "engine/core/error.hpp"
#include "gateways/sandbox/sandbox_gateway.hpp"

namespace artistsaid::gateways {
namespace {

nlohmann::json to_json(const YAML::Node& node, const std::string& path) {
    switch (node.Type()) {
        case YAML::NodeType::Map: {
            auto object = nlohmann::json::object();
            for (const auto& entry : node) {
                object[entry.first.as<std::string>()] = to_json(entry.second, path);
            }
            return object;
        }
        case YAML::NodeType::Sequence: {
            auto array = nlohmann::json::array();
            for (const auto& item : node) array.push_back(to_json(item, path));
            return array;
        }
        case YAML::NodeType::Scalar: return node.as<std::string>();
        default: return nullptr;
    }
}

void check_keys(const nlohmann::json& section, const std::string& name,
                std::initializer_list<std::string_view> allowed) {
    if (section.is_null()) return;
    if (!section.is_object()) throw InputError("gateways: " + name + " must be a mapping");
    for (const auto& [key, value] : section.items()) {
        bool known = false;
        for (auto a : allowed) known = known || a == key;
        if (!known) throw InputError("gateways: unknown key '" + name + "." + key + "'");
    }
}

}  // namespace

nlohmann::json load_gateway_settings(const std::string& path) {
    YAML::Node root;
    try {
        root = YAML::LoadFile(path);
    } catch (const YAML::BadFile&) {
        throw InputError("gateways: cannot read " + path);
    } catch (const YAML::ParserException& e) {
        throw InputError("gateways: " + e.msg,
                         SourceLocation{path, e.mark.line + 1, e.mark.column + 1});
    }
    if (root.IsNull()) return nlohmann::json::object();
    if (!root.IsMap()) throw InputError("gateways: " + path + " must hold a mapping");
    return to_json(root, path);
}

void register_gateways(GatewayRegistry& registry, const nlohmann::json& settings,
                       const nlohmann::json& /*secrets*/, const std::string& database_url) {
    check_keys(settings, "gateways", {"routing", "sandbox", "stripe", "paypal"});
    nlohmann::json sandbox = settings.value("sandbox", nlohmann::json::object());
    check_keys(sandbox, "sandbox", {"enabled"});
    if (sandbox.value("enabled", std::string("true")) != "false" && !database_url.empty()) {
        registry.add(std::make_unique<SandboxGateway>(database_url));
    }
    auto routing = GatewayRouting::from_json(settings.value("routing", nlohmann::json()));
    if (!settings.contains("routing")) routing.set_default("sandbox");
    registry.set_routing(std::move(routing));
}

}  // namespace artistsaid::gateways
