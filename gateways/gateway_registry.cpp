#include "gateways/gateway_registry.hpp"

#include "engine/core/error.hpp"

namespace artistsaid::gateways {

void GatewayRegistry::add(std::unique_ptr<PaymentGateway> gateway) {
    std::string name(gateway->name());
    if (gateways_.contains(name)) throw InputError("gateway '" + name + "' registered twice");
    gateways_.emplace(std::move(name), std::move(gateway));
}

PaymentGateway* GatewayRegistry::find(std::string_view name) const {
    auto it = gateways_.find(name);
    return it == gateways_.end() ? nullptr : it->second.get();
}

PaymentGateway& GatewayRegistry::get(std::string_view name) const {
    if (auto* gateway = find(name)) return *gateway;
    std::string known;
    for (const auto& [key, value] : gateways_) known += (known.empty() ? "" : ", ") + key;
    throw InputError("unknown gateway '" + std::string(name) + "' (configured: " +
                     (known.empty() ? "none" : known) + ")", ErrorCode::kNotFound);
}

PaymentGateway& GatewayRegistry::choose(std::optional<std::int64_t> client_id,
                                        Currency currency) const {
    return get(routing_.choose(client_id, currency));
}

std::vector<std::string> GatewayRegistry::names() const {
    std::vector<std::string> result;
    for (const auto& [key, value] : gateways_) result.push_back(key);
    return result;
}

}  // namespace artistsaid::gateways
