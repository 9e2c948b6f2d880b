#include "gateways/gateway_setup.hpp"

#include <yaml-cpp/yaml.h>

#include "engine/core/error.hpp"
#include "engine/core/duration.hpp"
#include "gateways/bank/bank_transfer_gateway.hpp"
#include "gateways/paypal/paypal_gateway.hpp"
#include "gateways/sandbox/sandbox_gateway.hpp"
#include "gateways/stripe/stripe_gateway.hpp"

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

namespace {

// The value of the secret named by `section[key]`; InputError naming the secret if unset.
std::string secret_named(const nlohmann::json& section, const std::string& gateway,
                         const std::string& key, const nlohmann::json& secrets) {
    if (!section.contains(key) || !section[key].is_string()) {
        throw InputError("gateways: " + gateway + "." + key + " must name a secret");
    }
    std::string name = section[key].get<std::string>();
    if (!secrets.contains(name) || !secrets[name].is_string() ||
        secrets[name].get<std::string>().empty()) {
        throw InputError("gateways: " + gateway + " needs the secret " + name +
                         " (ARTISTSAID_SECRET_" + name + " or $CREDENTIALS_DIRECTORY/" + name +
                         ")");
    }
    return secrets[name].get<std::string>();
}

std::chrono::milliseconds duration_of(const nlohmann::json& section, const std::string& key,
                                      std::chrono::milliseconds fallback) {
    if (!section.contains(key)) return fallback;
    return parse_duration(section[key].get<std::string>());
}

}  // namespace

std::optional<BankTransferSettings> bank_transfer_settings(const nlohmann::json& settings,
                                                          const std::string& database_url) {
    if (!settings.is_object() || !settings.contains("bank_transfer")) return std::nullopt;
    const auto& section = settings["bank_transfer"];
    check_keys(section, "bank_transfer", {"output_dir", "initiating_party", "debtor_name",
                                          "debtor_iban", "debtor_bic"});
    auto text = [&](const char* key) {
        return section.is_object() && section.contains(key) && section[key].is_string()
                   ? section[key].get<std::string>()
                   : std::string();
    };
    BankTransferSettings bank;
    bank.database_url = database_url;
    bank.output_dir = text("output_dir");
    bank.initiating_party = text("initiating_party");
    bank.debtor_name = text("debtor_name");
    bank.debtor_iban = text("debtor_iban");
    bank.debtor_bic = text("debtor_bic");
    return bank;
}

void register_gateways(GatewayRegistry& registry, const nlohmann::json& settings,
                       const nlohmann::json& secrets, const std::string& database_url) {
    check_keys(settings, "gateways", {"routing", "sandbox", "stripe", "paypal", "bank_transfer"});
    nlohmann::json sandbox = settings.value("sandbox", nlohmann::json::object());
    check_keys(sandbox, "sandbox", {"enabled"});
    if (sandbox.value("enabled", std::string("true")) != "false" && !database_url.empty()) {
        registry.add(std::make_unique<SandboxGateway>(database_url));
    }
    if (settings.contains("stripe")) {
        const auto& section = settings["stripe"];
        check_keys(section, "stripe", {"base_url", "api_key_secret", "api_version", "timeout",
                                       "max_attempts"});
        StripeSettings stripe;
        stripe.base_url = section.value("base_url", stripe.base_url);
        stripe.api_version = section.value("api_version", stripe.api_version);
        stripe.api_key = secret_named(section, "stripe", "api_key_secret", secrets);
        stripe.attempt_timeout = duration_of(section, "timeout", stripe.attempt_timeout);
        if (section.contains("max_attempts")) {
            stripe.max_attempts = std::stoi(section["max_attempts"].get<std::string>());
        }
        registry.add(std::make_unique<StripeGateway>(stripe));
    }
    if (settings.contains("paypal")) {
        const auto& section = settings["paypal"];
        check_keys(section, "paypal", {"base_url", "client_id_secret", "client_secret_secret",
                                       "timeout", "max_attempts"});
        PayPalSettings paypal;
        paypal.base_url = section.value("base_url", paypal.base_url);
        paypal.client_id = secret_named(section, "paypal", "client_id_secret", secrets);
        paypal.client_secret = secret_named(section, "paypal", "client_secret_secret", secrets);
        paypal.retry.attempt_timeout = duration_of(section, "timeout", paypal.retry.attempt_timeout);
        if (section.contains("max_attempts")) {
            paypal.retry.max_attempts = std::stoi(section["max_attempts"].get<std::string>());
        }
        registry.add(std::make_unique<PayPalGateway>(paypal));
    }
    if (auto bank = bank_transfer_settings(settings, database_url))
        registry.add(std::make_unique<BankTransferGateway>(std::move(*bank)));
    auto routing = GatewayRouting::from_json(settings.value("routing", nlohmann::json()));
    if (!settings.contains("routing")) routing.set_default("sandbox");
    registry.set_routing(std::move(routing));
}

}  // namespace artistsaid::gateways
