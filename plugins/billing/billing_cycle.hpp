// BillingCycle: how often a subscription renews, as the `billing_cycle` SQL domain spells it.
#pragma once

#include <optional>
#include <string_view>

namespace artistsaid::billing {

enum class BillingCycle { kMonthly, kQuarterly, kSemiannual, kAnnual, kOneOff };

/// "monthly", "quarterly", "semiannual", "annual", "one_off" (the SQL domain's values).
std::string_view to_string(BillingCycle cycle) noexcept;
/// The cycle named `text`, or nullopt.
std::optional<BillingCycle> parse_billing_cycle(std::string_view text) noexcept;
/// Months in one period: 1, 3, 6, 12; 0 for one_off (a single period, never renewed).
int cycle_months(BillingCycle cycle) noexcept;

}  // namespace artistsaid::billing
