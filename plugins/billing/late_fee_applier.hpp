// LateFeeApplier: adds the late fee of a LateFeePolicy, once, to every invoice still
// unpaid `after_days` days after its due date — in set-based statements in one
// transaction. The fee is a `late_fee` line (untaxed) raising the invoice's subtotal and
// total; a unique index allows one late fee per invoice, whatever retries or concurrent
// runs do. Ledger: one transaction per currency, receivable / revenue.
//
// Thread-safety: stateless; one call per connection.
#pragma once

#include <nlohmann/json.hpp>
#include <pqxx/connection>
#include <string>

#include "plugins/billing/billing_period.hpp"
#include "plugins/billing/late_fee_policy.hpp"

namespace artistsaid::billing {

class LateFeeApplier {
public:
    /// {billing_run_id, fees_applied, totals: {CUR: amount}, replayed}
    nlohmann::json apply(pqxx::connection& conn, Date as_of, const LateFeePolicy& policy,
                         const std::string& idempotency_key) const;
};

}  // namespace artistsaid::billing
