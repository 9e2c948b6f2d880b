// GatewayRouting: which gateway serves a client and a currency, from configuration.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "engine/core/currency.hpp"

namespace artistsaid::gateways {

/// Chooses a gateway name: the client's own choice first, then the currency's, then the
/// default. Read from the `routing` part of the gateways configuration:
///
///   routing:
///     default: stripe
///     currencies: { JPY: stripe, KWD: sandbox }
///     clients: { "42": paypal }
///
/// Thread-safety: immutable after construction.
class GatewayRouting {
public:
    GatewayRouting() = default;
    explicit GatewayRouting(std::string default_gateway) : default_(std::move(default_gateway)) {}

    /// Throws InputError naming the bad entry (unknown currency code, non-numeric client id,
    /// empty name).
    static GatewayRouting from_json(const nlohmann::json& routing);

    void set_default(std::string gateway) { default_ = std::move(gateway); }
    void route_currency(Currency currency, std::string gateway);
    void route_client(std::int64_t client_id, std::string gateway);

    /// The gateway name for this client (if known) and currency. Throws InputError if
    /// nothing matches and there is no default.
    std::string choose(std::optional<std::int64_t> client_id, Currency currency) const;

private:
    std::string default_;
    std::map<Currency, std::string> by_currency_;
    std::map<std::int64_t, std::string> by_client_;
};

}  // namespace artistsaid::gateways
