#include "plugins/payments/refund_call.hpp"

#include "engine/core/error.hpp"
#include "engine/core/logging.hpp"

namespace artistsaid::payments {

std::string refund_status(gateways::OperationStatus status) {
    switch (status) {
        case gateways::OperationStatus::kSucceeded: return "succeeded";
        case gateways::OperationStatus::kPending: return "pending";
        case gateways::OperationStatus::kUnknown: return "unknown";
        case gateways::OperationStatus::kDeclined:
        case gateways::OperationStatus::kFailed:
        case gateways::OperationStatus::kRequiresAction: return "failed";
    }
    return "unknown";
}

gateways::GatewayResult send_refund(const gateways::GatewayRegistry& gateways,
                                    const std::string& gateway,
                                    const gateways::RefundRequest& request) {
    gateways::GatewayResult result;
    try {
        result = gateways.get(gateway).refund(request);
    } catch (const InputError& e) {
        result.status = gateways::OperationStatus::kFailed;  // refused before anything was sent
        result.error = logging::redact(e.what());
    } catch (const std::exception& e) {
        result.status = gateways::OperationStatus::kUnknown;
        result.error = logging::redact(e.what());
    }
    return result;
}

}  // namespace artistsaid::payments
