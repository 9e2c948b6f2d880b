// GatewayRegistry: gateway name -> PaymentGateway, plus the routing that picks one.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateways/gateway_routing.hpp"
#include "gateways/payment_gateway.hpp"

namespace artistsaid::gateways {

/// Every configured gateway by name. Filled in one visible place (register_gateways() in
/// gateways/gateway_setup.cpp), never by static initialisation.
///
/// Thread-safety: fill it before sharing; afterwards find()/get()/choose() may be called
/// from any thread, and the gateways themselves are thread-safe.
class GatewayRegistry {
public:
    /// Throws InputError if a gateway of that name is already registered.
    void add(std::unique_ptr<PaymentGateway> gateway);
    void set_routing(GatewayRouting routing) { routing_ = std::move(routing); }

    /// nullptr if none has this name.
    PaymentGateway* find(std::string_view name) const;
    /// Throws InputError ("unknown gateway 'x' (configured: a, b)") if none has this name.
    PaymentGateway& get(std::string_view name) const;
    /// The gateway routing picks for this client and currency (see GatewayRouting).
    PaymentGateway& choose(std::optional<std::int64_t> client_id, Currency currency) const;

    std::vector<std::string> names() const;

private:
    std::map<std::string, std::unique_ptr<PaymentGateway>, std::less<>> gateways_;
    GatewayRouting routing_;
};

}  // namespace artistsaid::gateways
