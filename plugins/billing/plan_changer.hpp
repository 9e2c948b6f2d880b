// PlanChanger: changes a subscription's plan (service and/or price) from a day inside its
// current period and records the proration, in ONE transaction.
//
// The current period is the one that ends on the subscription's next due date. If it was
// billed (its recurring line exists), a change on day `c` records Kill Bill's IMMEDIATE
// proration (proration.hpp) as pending `subscription_adjustments`:
//   proration_credit  -round(old billed amount * (end - c) / D)   (the old plan's unused days)
//   proration_charge  +round(new amount * (end - c) / D)          (the new plan's same days)
// and the next billing.generate_invoices run (cutoff >= c) puts them on the client's invoice
// once (adjustment_billing.hpp); the renewal on the next due date bills the new price in
// full. Why pending lines rather than an invoice issued at once: the proration is billed
// with the client's other charges (one invoice, one collection attempt, one tax
// computation by the run's rules), a downgrade's credit nets against the renewal instead of
// needing a negative invoice, and the run's exactly-once machinery (invoice_id set in the
// same transaction as the invoice) is reused instead of duplicated.
//
// Refused (InputError, nothing written): a cancelled or terminated subscription, a one-off
// or ended one (no next due date), a date before the current period's start or after its
// end, an unknown/inactive service, a service without a price in the subscription's currency
// and cycle, a malformed price (decimal text in the currency's exponent), no change at all.
//
// Once: the execution is claimed by its idempotency key in billing_runs (kind change_plan);
// the same key returns the first outputs (`replayed`) and changes nothing.
//
// Thread-safety: stateless; the subscription row is locked while changing it.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/connection>
#include <string>

#include "plugins/billing/billing_period.hpp"
#include "plugins/billing/rounding_mode.hpp"

namespace artistsaid::billing {

struct PlanChangeOptions {
    long long subscription_id = 0;
    std::optional<std::string> service_code;  // the new service (its price unless `price`)
    std::optional<std::string> price;         // the new price per period, "12.50" (override)
    Date on{};
    RoundingMode rounding = RoundingMode::kHalfUp;
    bool dry_run = false;  // compute and roll back
    std::string idempotency_key;
};

class PlanChanger {
public:
    /// {billing_run_id, subscription_id, currency, change_date, period_start, period_end,
    ///  period_days, remaining_days, billed, old: {service, amount}, new: {service, amount},
    ///  credit, charge, net, adjustments, replayed, dry_run}
    nlohmann::json change(pqxx::connection& conn, const PlanChangeOptions& options) const;
};

}  // namespace artistsaid::billing
