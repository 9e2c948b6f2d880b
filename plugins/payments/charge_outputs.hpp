// What a charge reports, for the single path (InvoiceCharger) and the batch path
// (BatchInvoiceCharger) alike: the payments row's outputs, the outputs of an invoice that
// was not charged, and the payments.status a gateway outcome is stored as.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <string>

#include "gateways/payment_gateway.hpp"

namespace artistsaid::payments {

/// The columns payment_row_outputs reads, from `payments p JOIN invoices i`.
inline constexpr const char* kPaymentOutputColumns =
    "p.id, p.invoice_id, p.status, p.amount, p.currency, p.gateway, "
    "coalesce(p.decline_code, ''), coalesce(p.error, ''), i.status = 'paid'";

/// The outputs of a recorded payment from kPaymentOutputColumns starting at column `first`.
nlohmann::json payment_row_outputs(const pqxx::row& row, int first = 0);

/// The outputs of an invoice that was not charged (nothing due, no payment method, …).
nlohmann::json no_charge(std::int64_t invoice_id, const std::string& status,
                         const std::string& currency, bool paid, bool dry_run = false);

/// payments.status for a gateway outcome (requires_action is a failure here).
std::string payment_status(gateways::OperationStatus status);

}  // namespace artistsaid::payments
