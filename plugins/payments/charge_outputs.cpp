#include "plugins/payments/charge_outputs.hpp"

namespace artistsaid::payments {

nlohmann::json payment_row_outputs(const pqxx::row& row, int first) {
    auto at = [&](int i) { return row[first + i]; };
    return {{"payment_id", at(0).as<std::int64_t>()},
            {"invoice_id", at(1).as<std::int64_t>()},
            {"status", at(2).as<std::string>()},
            {"amount", at(3).as<std::int64_t>()},
            {"currency", at(4).as<std::string>()},
            {"gateway", at(5).as<std::string>()},
            {"decline_code", at(6).as<std::string>()},
            {"error", at(7).as<std::string>()},
            {"invoice_paid", at(8).as<bool>()},
            {"charged", false},
            {"replayed", false},
            {"reconciled", false},
            {"dry_run", false}};
}

nlohmann::json no_charge(std::int64_t invoice_id, const std::string& status,
                         const std::string& currency, bool paid, bool dry_run) {
    return {{"invoice_id", invoice_id}, {"status", status}, {"payment_id", nullptr},
            {"amount", 0}, {"currency", currency}, {"gateway", ""}, {"decline_code", ""},
            {"error", ""}, {"invoice_paid", paid}, {"charged", false}, {"replayed", false},
            {"reconciled", false}, {"dry_run", dry_run}};
}

std::string payment_status(gateways::OperationStatus status) {
    switch (status) {
        case gateways::OperationStatus::kSucceeded: return "succeeded";
        case gateways::OperationStatus::kPending: return "pending";
        case gateways::OperationStatus::kDeclined: return "declined";
        case gateways::OperationStatus::kFailed:
        case gateways::OperationStatus::kRequiresAction: return "failed";
        case gateways::OperationStatus::kUnknown: return "unknown";
    }
    return "unknown";
}

}  // namespace artistsaid::payments
