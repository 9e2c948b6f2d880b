#include "plugins/billing/step_inputs.hpp"

#include "engine/core/error.hpp"

namespace artistsaid::billing {

StepInputs::StepInputs(std::string step, const nlohmann::json& with)
    : step_(std::move(step)), with_(with) {
    if (!with_.is_object() && !with_.is_null()) throw InputError(step_ + ": `with` must be a mapping");
}

void StepInputs::fail(const std::string& field, const std::string& expected) const {
    throw InputError(step_ + ": '" + field + "' must be " + expected);
}

const nlohmann::json& StepInputs::raw(const std::string& field) const {
    static const nlohmann::json null_value;
    if (!with_.is_object()) return null_value;
    auto it = with_.find(field);
    return it == with_.end() ? null_value : *it;
}

Date StepInputs::date(const std::string& field) const {
    const auto& v = raw(field);
    if (!v.is_string()) fail(field, "a date (YYYY-MM-DD)");
    return parse_date(v.get<std::string>(), step_ + ": '" + field + "'");
}

std::int64_t StepInputs::integer(const std::string& field, std::int64_t fallback, std::int64_t min,
                                 std::int64_t max) const {
    const auto& v = raw(field);
    if (v.is_null()) return fallback;
    if (!v.is_number_integer() || v.get<std::int64_t>() < min || v.get<std::int64_t>() > max)
        fail(field, "an integer between " + std::to_string(min) + " and " + std::to_string(max));
    return v.get<std::int64_t>();
}

bool StepInputs::boolean(const std::string& field, bool fallback) const {
    const auto& v = raw(field);
    if (v.is_null()) return fallback;
    if (!v.is_boolean()) fail(field, "true or false");
    return v.get<bool>();
}

std::string StepInputs::text(const std::string& field, const std::string& fallback) const {
    const auto& v = raw(field);
    if (v.is_null()) return fallback;
    if (!v.is_string()) fail(field, "text");
    return v.get<std::string>();
}

RoundingMode StepInputs::rounding(const std::string& field) const {
    const std::string mode = text(field, "half_up");
    if (auto m = parse_rounding_mode(mode)) return *m;
    fail(field, "one of half_up, half_even, half_down, up, down (not '" + mode + "')");
}

}  // namespace artistsaid::billing
