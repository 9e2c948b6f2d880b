#include "gateways/gateway_routing.hpp"

#include <charconv>

#include <nlohmann/json.hpp>

#include "engine/core/error.hpp"

namespace artistsaid::gateways {
namespace {

std::string gateway_name(const nlohmann::json& value, const std::string& where) {
    if (!value.is_string() || value.get<std::string>().empty()) {
        throw InputError("gateways routing: " + where + " must name a gateway");
    }
    return value.get<std::string>();
}

}  // namespace

GatewayRouting GatewayRouting::from_json(const nlohmann::json& routing) {
    GatewayRouting result;
    if (routing.is_null()) return result;
    if (!routing.is_object()) throw InputError("gateways routing: expected a mapping");
    for (const auto& [key, value] : routing.items()) {
        if (key == "default") {
            result.default_ = gateway_name(value, "default");
        } else if (key == "currencies") {
            if (!value.is_object()) throw InputError("gateways routing: currencies must be a mapping");
            for (const auto& [code, name] : value.items()) {
                auto currency = Currency::find(code);
                if (!currency) {
                    throw InputError("gateways routing: currencies: unknown currency '" + code + "'");
                }
                result.by_currency_[*currency] = gateway_name(name, "currencies." + code);
            }
        } else if (key == "clients") {
            if (!value.is_object()) throw InputError("gateways routing: clients must be a mapping");
            for (const auto& [id_text, name] : value.items()) {
                std::int64_t id = 0;
                auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
                if (ec != std::errc() || end != id_text.data() + id_text.size() || id <= 0) {
                    throw InputError("gateways routing: clients: '" + id_text +
                                     "' is not a client id");
                }
                result.by_client_[id] = gateway_name(name, "clients." + id_text);
            }
        } else {
            throw InputError("gateways routing: unknown key '" + key +
                             "' (expected default, currencies, clients)");
        }
    }
    return result;
}

void GatewayRouting::route_currency(Currency currency, std::string gateway) {
    by_currency_[currency] = std::move(gateway);
}

void GatewayRouting::route_client(std::int64_t client_id, std::string gateway) {
    by_client_[client_id] = std::move(gateway);
}

std::string GatewayRouting::choose(std::optional<std::int64_t> client_id,
                                   Currency currency) const {
    if (client_id) {
        if (auto it = by_client_.find(*client_id); it != by_client_.end()) return it->second;
    }
    if (auto it = by_currency_.find(currency); it != by_currency_.end()) return it->second;
    if (default_.empty()) {
        throw InputError("no payment gateway configured for " + std::string(currency.code()) +
                         " (set gateways routing.default or routing.currencies)");
    }
    return default_;
}

}  // namespace artistsaid::gateways
