#include "plugins/billing/late_fee_policy.hpp"

#include <algorithm>

#include "engine/core/error.hpp"

namespace artistsaid::billing {

std::int64_t parse_percent_ppm(const std::string& text, const std::string& what) {
    const auto fail = [&] {
        throw InputError(what + " is not a percentage between 0 and 100 with at most 4 "
                                "decimals written as text (e.g. \"1.5\"): '" + text + "'");
    };
    if (text.empty() || text.size() > 12) fail();
    std::int64_t whole = 0, frac = 0;
    int frac_digits = 0;
    bool dot = false, digit_before = false;
    for (char c : text) {
        if (c == '.') {
            if (dot || !digit_before) fail();
            dot = true;
        } else if (c >= '0' && c <= '9') {
            if (dot) {
                if (++frac_digits > 4) fail();
                frac = frac * 10 + (c - '0');
            } else {
                digit_before = true;
                whole = whole * 10 + (c - '0');
            }
        } else {
            fail();
        }
    }
    if (dot && frac_digits == 0) fail();
    for (int i = frac_digits; i < 4; ++i) frac *= 10;
    const std::int64_t ppm = whole * 10'000 + frac;
    if (ppm > 1'000'000) fail();
    return ppm;
}

namespace {

std::map<std::string, std::int64_t> amounts_of(const nlohmann::json& policy, const char* field) {
    std::map<std::string, std::int64_t> out;
    if (!policy.contains(field)) return out;
    const auto& v = policy[field];
    if (!v.is_object())
        throw InputError(std::string("late fee '") + field +
                         "' must map currency codes to amounts, e.g. {\"USD\": \"5.00\"}");
    for (const auto& [code, amount] : v.items()) {
        const Currency cur = Currency::from_code(code);
        if (!amount.is_string())
            throw InputError(std::string("late fee '") + field + "." + code +
                             "' must be decimal text (e.g. \"5.00\"), not a number");
        const Money m = Money::parse(amount.get<std::string>(), cur);
        if (m.is_negative())
            throw InputError(std::string("late fee '") + field + "." + code + "' is negative");
        out[code] = m.minor_units();
    }
    return out;
}

}  // namespace

LateFeePolicy LateFeePolicy::from_json(const nlohmann::json& policy) {
    if (!policy.is_object()) throw InputError("late_fee must be an object");
    for (const auto& [key, value] : policy.items()) {
        static const char* known[] = {"kind", "after_days", "percent", "amounts",
                                      "minimum", "maximum", "rounding"};
        if (std::find_if(std::begin(known), std::end(known),
                         [&](const char* k) { return key == k; }) == std::end(known))
            throw InputError("late_fee has an unknown field '" + key +
                             "' (kind, after_days, percent, amounts, minimum, maximum, rounding)");
    }
    LateFeePolicy p;
    const std::string kind = policy.value("kind", "");
    if (kind == "fixed")
        p.kind_ = Kind::kFixed;
    else if (kind == "percent")
        p.kind_ = Kind::kPercent;
    else
        throw InputError("late_fee.kind must be 'fixed' or 'percent', not '" + kind + "'");
    if (policy.contains("after_days")) {
        const auto& d = policy["after_days"];
        if (!d.is_number_integer() || d.get<long long>() < 0 || d.get<long long>() > 3650)
            throw InputError("late_fee.after_days must be an integer between 0 and 3650");
        p.after_days_ = d.get<int>();
    }
    if (p.kind_ == Kind::kPercent) {
        if (!policy.contains("percent") || !policy["percent"].is_string())
            throw InputError("late_fee.percent is required for kind 'percent', as text (\"1.5\")");
        p.percent_ppm_ = parse_percent_ppm(policy["percent"].get<std::string>(), "late_fee.percent");
        p.amounts_ = amounts_of(policy, "minimum");
        p.maximums_ = amounts_of(policy, "maximum");
        if (policy.contains("amounts"))
            throw InputError("late_fee.amounts is for kind 'fixed'; use minimum/maximum");
    } else {
        p.amounts_ = amounts_of(policy, "amounts");
        if (p.amounts_.empty())
            throw InputError("late_fee.amounts is required for kind 'fixed' ({\"USD\": \"5.00\"})");
        if (policy.contains("percent") || policy.contains("minimum") || policy.contains("maximum"))
            throw InputError("late_fee.percent/minimum/maximum are for kind 'percent'");
    }
    if (policy.contains("rounding")) {
        if (!policy["rounding"].is_string()) throw InputError("late_fee.rounding must be text");
        p.rounding_ = rounding_mode_or_throw(policy["rounding"].get<std::string>());
    }
    return p;
}

std::int64_t LateFeePolicy::fixed_or_minimum(const std::string& currency) const {
    auto it = amounts_.find(currency);
    return it == amounts_.end() ? 0 : it->second;
}

std::int64_t LateFeePolicy::maximum(const std::string& currency) const {
    auto it = maximums_.find(currency);
    return it == maximums_.end() ? -1 : it->second;
}

Money LateFeePolicy::fee_for(const Money& balance_due) const {
    const std::string code(balance_due.currency().code());
    if (balance_due.minor_units() <= 0) return Money::zero(balance_due.currency());
    if (kind_ == Kind::kFixed) return Money(fixed_or_minimum(code), balance_due.currency());
    std::int64_t fee = apply_ppm(balance_due.minor_units(), percent_ppm_, rounding_);
    fee = std::max(fee, fixed_or_minimum(code));
    if (const auto max = maximum(code); max >= 0) fee = std::min(fee, max);
    return Money(fee, balance_due.currency());
}

}  // namespace artistsaid::billing
