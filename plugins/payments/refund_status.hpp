// The refunds.status a gateway's answer to a refund is stored as, for payments.refund
// (RefundIssuer) and payments.refund_credit (CreditRefundIssuer) alike.
#pragma once

#include <string>

#include "gateways/payment_gateway.hpp"

namespace artistsaid::payments {

/// refunds.status for a gateway outcome: a decline or a required action is a failure.
inline std::string refund_status(gateways::OperationStatus status) {
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

}  // namespace artistsaid::payments
