// DunningRunner: applies a DunningPolicy on `as_of` in set-based statements, one
// transaction: records the notices that became due (dunning_notices, unique per invoice
// and notice) and returns them as a collection for an email fan-out; suspends, terminates
// and unsuspends subscriptions (subscriptions.suspended_by_dunning marks the ones it
// suspended, so an operator's own suspensions are never lifted by a payment).
//
// Thread-safety: stateless; one call per connection.
#pragma once

#include <nlohmann/json.hpp>
#include <pqxx/connection>
#include <string>

#include "plugins/billing/billing_period.hpp"
#include "plugins/billing/dunning_policy.hpp"

namespace artistsaid::billing {

class DunningRunner {
public:
    /// {billing_run_id, notices: {"$collection"} (items: invoice_id, number, client_id,
    ///  email, notice, days_from_due, balance_due, currency), notice_count, suspended,
    ///  terminated, unsuspended, replayed}
    nlohmann::json run(pqxx::connection& conn, Date as_of, const DunningPolicy& policy,
                       const std::string& idempotency_key, const std::string& run_id) const;
};

}  // namespace artistsaid::billing
