#include "gateways/payment_gateway.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <exception>
#include <thread>
#include <utility>

#include "engine/core/error.hpp"
#include "engine/core/logging.hpp"

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

std::vector<GatewayResult> PaymentGateway::charge_batch(const std::vector<ChargeRequest>& requests,
                                                        int max_parallel) {
    std::vector<GatewayResult> results(requests.size());
    if (requests.empty()) return results;
    // Each result slot is written by exactly one thread; `next` hands out the indexes.
    std::atomic<std::size_t> next{0};
    auto work = [&] {
        for (std::size_t i = next++; i < requests.size(); i = next++) {
            try {
                results[i] = charge(requests[i]);
            } catch (const InputError& e) {
                results[i].status = OperationStatus::kFailed;  // refused before anything was sent
                results[i].error = logging::redact(e.what());
            } catch (const std::exception& e) {
                results[i].status = OperationStatus::kUnknown;
                results[i].error = logging::redact(e.what());
            }
        }
    };
    const auto threads = static_cast<std::size_t>(std::clamp(max_parallel, 1, 64));
    std::vector<std::thread> pool;
    for (std::size_t t = 1; t < std::min(threads, requests.size()); ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
    return results;
}

}  // namespace artistsaid::gateways
