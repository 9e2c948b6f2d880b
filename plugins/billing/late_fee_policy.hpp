// LateFeePolicy: the fee added once to an invoice that is still unpaid `after_days` days
// after its due date (WHMCS's "late fee": fixed or percentage, with a minimum).
//
//   fixed:   the fixed amount of the invoice's currency
//   percent: round(balance_due * percent) by the rounding mode, at least the minimum of the
//            currency (and at most the maximum, when one is set)
// A currency the policy has no amount for gets no fixed fee and no minimum (a percentage
// fee still applies). A zero fee adds nothing.
//
// Thread-safety: an immutable value after from_json().
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/core/money.hpp"
#include "plugins/billing/rounding_mode.hpp"

namespace artistsaid::billing {

class LateFeePolicy {
public:
    enum class Kind { kFixed, kPercent };

    /// {"kind": "fixed"|"percent", "after_days": N, "percent": "1.5",
    ///  "amounts": {"USD": "5.00", ...}, "minimum": {"USD": "2.00"}, "maximum": {...},
    ///  "rounding": "half_up"}. Amounts are decimal text of the currency ("5.00", JPY
    /// "500"), never floats. InputError naming the field for anything malformed.
    static LateFeePolicy from_json(const nlohmann::json& policy);

    /// The fee on an invoice with `balance_due` left to pay (0 if none applies).
    Money fee_for(const Money& balance_due) const;

    Kind kind() const noexcept { return kind_; }
    int after_days() const noexcept { return after_days_; }
    std::int64_t percent_ppm() const noexcept { return percent_ppm_; }
    RoundingMode rounding() const noexcept { return rounding_; }
    /// The fixed amount (kFixed) or the minimum (kPercent) for a currency, 0 if none.
    std::int64_t fixed_or_minimum(const std::string& currency) const;
    /// The maximum for a currency, -1 if none.
    std::int64_t maximum(const std::string& currency) const;

private:
    Kind kind_ = Kind::kFixed;
    int after_days_ = 0;
    std::int64_t percent_ppm_ = 0;
    std::map<std::string, std::int64_t> amounts_;  // fixed amounts or minimums
    std::map<std::string, std::int64_t> maximums_;
    RoundingMode rounding_ = RoundingMode::kHalfUp;
};

/// "1.5" -> 15000: a percentage written as decimal text (up to 4 decimals, 0–100) in parts
/// per million. InputError naming `what` otherwise.
std::int64_t parse_percent_ppm(const std::string& text, const std::string& what);

}  // namespace artistsaid::billing
