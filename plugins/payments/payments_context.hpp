// What the payment steps need from the process: the database and the configured gateways.
#pragma once

#include <functional>
#include <string>

#include "gateways/gateway_registry.hpp"
#include "plugins/billing/billing_steps.hpp"

namespace artistsaid::payments {

/// Filled once where the step registry is built (cli/step_plugins.cpp); the functions are
/// called on every step execution, so configuration read lazily (gateways file, secrets)
/// is only needed by processes that really charge.
struct PaymentsContext {
    billing::ConnectionFactory connect;
    std::function<std::string()> database_url;                 // for the PaymentReconciler
    std::function<const gateways::GatewayRegistry&()> gateways;  // throws InputError if bad
};

}  // namespace artistsaid::payments
