// A refund's call to its gateway and how the answer is stored, for payments.refund
// (RefundIssuer) and payments.refund_credit (CreditRefundIssuer) alike.
#pragma once

#include <string>

#include "gateways/gateway_registry.hpp"
#include "gateways/payment_gateway.hpp"

namespace artistsaid::payments {

/// refunds.status for a gateway outcome: a decline or a required action is a failure.
std::string refund_status(gateways::OperationStatus status);

/// Sends the refund through the gateway named `gateway`. A request refused before it was
/// sent (InputError: unknown gateway, invalid request) is a failure; any other error
/// leaves the outcome unknown, for the reconciler. Errors are redacted.
gateways::GatewayResult send_refund(const gateways::GatewayRegistry& gateways,
                                    const std::string& gateway,
                                    const gateways::RefundRequest& request);

}  // namespace artistsaid::payments
