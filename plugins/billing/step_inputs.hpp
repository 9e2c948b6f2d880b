// StepInputs: reads a billing step's rendered `with:` with the checks every step needs, so
// a bad value fails the step at once (InputError: not retried) naming the step and field.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "plugins/billing/billing_period.hpp"
#include "plugins/billing/rounding_mode.hpp"

namespace artistsaid::billing {

class StepInputs {
public:
    StepInputs(std::string step, const nlohmann::json& with);

    Date date(const std::string& field) const;  // required "YYYY-MM-DD"
    std::int64_t integer(const std::string& field, std::int64_t fallback, std::int64_t min,
                         std::int64_t max) const;
    bool boolean(const std::string& field, bool fallback) const;
    std::string text(const std::string& field, const std::string& fallback) const;
    RoundingMode rounding(const std::string& field) const;  // default half_up
    /// The field's value, or null when absent.
    const nlohmann::json& raw(const std::string& field) const;

private:
    [[noreturn]] void fail(const std::string& field, const std::string& expected) const;
    std::string step_;
    const nlohmann::json& with_;
};

}  // namespace artistsaid::billing
