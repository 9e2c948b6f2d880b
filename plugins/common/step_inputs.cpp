#include "plugins/common/step_inputs.hpp"

#include "engine/core/duration.hpp"
#include "engine/core/error.hpp"

namespace artistsaid::plugins {
namespace {
const nlohmann::json kNull;
}

bool StepInputs::has(const std::string& field) const {
    return with_.is_object() && with_.contains(field) && !with_.at(field).is_null();
}

const nlohmann::json& StepInputs::value(const std::string& field) const {
    return has(field) ? with_.at(field) : kNull;
}

void StepInputs::fail(const std::string& field, const std::string& problem) const {
    throw InputError(step_type_ + ": '" + field + "' " + problem);
}

std::string StepInputs::string(const std::string& field) const {
    auto v = optional_string(field);
    if (!v || v->empty()) fail(field, "is required");
    return *v;
}

std::optional<std::string> StepInputs::optional_string(const std::string& field) const {
    if (!has(field)) return std::nullopt;
    const auto& v = with_.at(field);
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_integer() || v.is_boolean()) return v.dump();
    fail(field, "must be a string");
}

std::string StepInputs::string_or(const std::string& field, const std::string& fallback) const {
    return optional_string(field).value_or(fallback);
}

long long StepInputs::integer_or(const std::string& field, long long fallback, long long min,
                                 long long max) const {
    if (!has(field)) return fallback;
    const auto& v = with_.at(field);
    long long n = 0;
    if (v.is_number_integer()) {
        n = v.get<long long>();
    } else if (v.is_string()) {
        try {
            std::size_t used = 0;
            n = std::stoll(v.get<std::string>(), &used);
            if (used != v.get<std::string>().size()) fail(field, "must be an integer");
        } catch (const std::logic_error&) {
            fail(field, "must be an integer");
        }
    } else {
        fail(field, "must be an integer");
    }
    if (n < min || n > max)
        fail(field, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return n;
}

bool StepInputs::boolean_or(const std::string& field, bool fallback) const {
    if (!has(field)) return fallback;
    const auto& v = with_.at(field);
    if (v.is_boolean()) return v.get<bool>();
    if (v == "true") return true;
    if (v == "false") return false;
    fail(field, "must be true or false");
}

std::chrono::milliseconds StepInputs::duration_or(const std::string& field,
                                                  std::chrono::milliseconds fallback) const {
    if (!has(field)) return fallback;
    const auto& v = with_.at(field);
    if (v.is_number_integer()) return std::chrono::seconds(v.get<long long>());
    if (!v.is_string()) fail(field, "must be a duration such as 30s");
    try {
        return parse_duration(v.get<std::string>());
    } catch (const Error&) {
        fail(field, "must be a duration such as 30s");
    }
}

}  // namespace artistsaid::plugins
