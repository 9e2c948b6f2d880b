// CommissionDistributor: splits paid marketplace orders (sales and bookings) into the
// platform's commission, the referring affiliate's commission and the provider's share
// (CommissionSplit: largest remainder, so the shares add up to the gross), and clears
// affiliate commissions whose delay has passed.
//
// Per new commission, one balanced ledger transaction 'commission.split':
//   gateway_clearing +gross / platform_commission -platform /
//   affiliate_payable -affiliate (the pending pool) / provider_payable:client:<id> -provider
// Per cleared commission, 'commission.cleared':
//   affiliate_payable +affiliate / affiliate_payable:affiliate:<id> -affiliate
// A commission without an affiliate share is cleared at once. commissions'
// UNIQUE (source_kind, source_reference) makes each order split once.
//
// Thread-safety: stateless; one call per connection.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/connection>
#include <string>

#include "plugins/billing/billing_period.hpp"

namespace artistsaid::billing {

struct CommissionOptions {
    Date as_of{};
    std::int64_t platform_ppm = 150000;       // orders without their own rate
    std::optional<int> clearing_days;         // overrides each affiliate's clearing_days
    std::string idempotency_key;
};

class CommissionDistributor {
public:
    /// {billing_run_id, split, cleared, totals: {CUR: {gross, platform, affiliate,
    ///  provider}}, replayed}
    nlohmann::json distribute(pqxx::connection& conn, const CommissionOptions& options) const;
};

}  // namespace artistsaid::billing
