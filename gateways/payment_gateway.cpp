#include "gateways/payment_gateway.hpp"

#include <array>
#include <utility>

namespace artistsaid::gateways {
namespace {

constexpr std::array<std::pair<OperationStatus, std::string_view>, 6> kStatusNames{{
    {OperationStatus::kSucceeded, "succeeded"},
    {OperationStatus::kPending, "pending"},
    {OperationStatus::kRequiresAction, "requires_action"},
    {OperationStatus::kDeclined, "declined"},
    {OperationStatus::kFailed, "failed"},
    {OperationStatus::kUnknown, "unknown"},
}};

constexpr std::array<std::pair<OperationKind, std::string_view>, 4> kKindNames{{
    {OperationKind::kCharge, "charge"},
    {OperationKind::kRefund, "refund"},
    {OperationKind::kTransfer, "transfer"},
    {OperationKind::kPayout, "payout"},
}};

}  // namespace

std::string_view to_string(OperationStatus status) noexcept {
    for (const auto& [value, name] : kStatusNames) {
        if (value == status) return name;
    }
    return "unknown";
}

std::optional<OperationStatus> operation_status_from_string(std::string_view text) noexcept {
    for (const auto& [value, name] : kStatusNames) {
        if (name == text) return value;
    }
    return std::nullopt;
}

std::string_view to_string(OperationKind kind) noexcept {
    for (const auto& [value, name] : kKindNames) {
        if (value == kind) return name;
    }
    return "charge";
}

std::optional<OperationKind> operation_kind_from_string(std::string_view text) noexcept {
    for (const auto& [value, name] : kKindNames) {
        if (name == text) return value;
    }
    return std::nullopt;
}

}  // namespace artistsaid::gateways
