#include "plugins/billing/billing_cycle.hpp"

namespace artistsaid::billing {

std::string_view to_string(BillingCycle cycle) noexcept {
    switch (cycle) {
        case BillingCycle::kMonthly: return "monthly";
        case BillingCycle::kQuarterly: return "quarterly";
        case BillingCycle::kSemiannual: return "semiannual";
        case BillingCycle::kAnnual: return "annual";
        case BillingCycle::kOneOff: return "one_off";
    }
    return "monthly";
}

std::optional<BillingCycle> parse_billing_cycle(std::string_view text) noexcept {
    for (auto c : {BillingCycle::kMonthly, BillingCycle::kQuarterly, BillingCycle::kSemiannual,
                   BillingCycle::kAnnual, BillingCycle::kOneOff})
        if (to_string(c) == text) return c;
    return std::nullopt;
}

int cycle_months(BillingCycle cycle) noexcept {
    switch (cycle) {
        case BillingCycle::kMonthly: return 1;
        case BillingCycle::kQuarterly: return 3;
        case BillingCycle::kSemiannual: return 6;
        case BillingCycle::kAnnual: return 12;
        case BillingCycle::kOneOff: return 0;
    }
    return 1;
}

}  // namespace artistsaid::billing
