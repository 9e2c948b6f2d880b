#include "engine/workflow/value_type.hpp"

#include <array>
#include <charconv>

#include "engine/core/duration.hpp"
#include "engine/core/error.hpp"
#include "engine/workflow/detail/calendar.hpp"
#include "engine/workflow/value.hpp"

namespace artistsaid::workflow {
namespace {

struct TypeName {
    ValueType type;
    std::string_view name;
};
constexpr std::array<TypeName, 10> kTypeNames{{
    {ValueType::kString, "string"},
    {ValueType::kInteger, "integer"},
    {ValueType::kBoolean, "boolean"},
    {ValueType::kDate, "date"},
    {ValueType::kDatetime, "datetime"},
    {ValueType::kMoney, "money"},
    {ValueType::kDuration, "duration"},
    {ValueType::kArray, "array"},
    {ValueType::kObject, "object"},
    {ValueType::kAny, "any"},
}};

// At most 40 characters of a value, for messages.
std::string shown(const nlohmann::json& value) {
    std::string text = value.is_string()
                           ? "'" + value.get<std::string>() + "'"
                           : value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (text.size() > 40) text = text.substr(0, 37) + "...";
    return text;
}

[[noreturn]] void mismatch(ValueType type, const nlohmann::json& value) {
    throw InputError("expected " + expected_form(type) + ", got " + kind_of(value) + " " +
                     shown(value));
}

}  // namespace

std::string_view to_string(ValueType type) noexcept {
    for (const auto& t : kTypeNames)
        if (t.type == type) return t.name;
    return "any";
}

std::optional<ValueType> parse_value_type(std::string_view name, bool allow_any) noexcept {
    for (const auto& t : kTypeNames)
        if (t.name == name && (allow_any || t.type != ValueType::kAny)) return t.type;
    return std::nullopt;
}

const std::vector<std::string>& input_type_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (const auto& t : kTypeNames)
            if (t.type != ValueType::kAny) out.emplace_back(t.name);
        return out;
    }();
    return names;
}

std::string expected_form(ValueType type) {
    switch (type) {
        case ValueType::kString:
            return "a string";
        case ValueType::kInteger:
            return "an integer";
        case ValueType::kBoolean:
            return "a boolean (true or false)";
        case ValueType::kDate:
            return "a date (YYYY-MM-DD)";
        case ValueType::kDatetime:
            return "a datetime (RFC 3339, e.g. 2024-05-01T09:30:00Z)";
        case ValueType::kMoney:
            return "money (e.g. '12.34 USD')";
        case ValueType::kDuration:
            return "a duration (e.g. 30s, 10m, 1d)";
        case ValueType::kArray:
            return "an array";
        case ValueType::kObject:
            return "an object";
        case ValueType::kAny:
            return "any value";
    }
    return "any value";
}

nlohmann::json coerce_value(ValueType type, const nlohmann::json& value) {
    switch (type) {
        case ValueType::kAny:
            return value;
        case ValueType::kString:
            if (value.is_string()) return value;
            if (value.is_number_integer() || value.is_boolean() || money_from_json(value))
                return value_text(value);
            mismatch(type, value);
        case ValueType::kInteger: {
            if (value.is_number_integer()) {
                if (value.is_number_unsigned() &&
                    value.get<std::uint64_t>() >
                        static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
                    mismatch(type, value);
                return value;
            }
            if (value.is_string()) {
                const auto& text = value.get_ref<const std::string&>();
                std::int64_t parsed = 0;
                const char* begin = text.data();
                const char* end = text.data() + text.size();
                if (begin != end && *begin == '+') ++begin;
                auto [ptr, ec] = std::from_chars(begin, end, parsed);
                if (ec == std::errc() && ptr == end && begin != end) return parsed;
            }
            mismatch(type, value);
        }
        case ValueType::kBoolean:
            if (value.is_boolean()) return value;
            if (value == "true") return true;
            if (value == "false") return false;
            mismatch(type, value);
        case ValueType::kDate:
            if (value.is_string() && detail::parse_date(value.get<std::string>())) return value;
            mismatch(type, value);
        case ValueType::kDatetime:
            if (value.is_string() && detail::parse_datetime(value.get<std::string>())) return value;
            mismatch(type, value);
        case ValueType::kMoney:
            if (money_from_json(value)) return value;
            if (value.is_string()) {
                try {
                    return money_to_json(Money::parse(value.get<std::string>()));
                } catch (const Error& e) {
                    throw InputError("expected " + expected_form(type) + ": " + e.what());
                }
            }
            mismatch(type, value);
        case ValueType::kDuration:
            if (value.is_string()) {
                try {
                    return format_duration(parse_duration(value.get<std::string>()));
                } catch (const Error& e) {
                    throw InputError(e.what());
                }
            }
            mismatch(type, value);
        case ValueType::kArray:
            if (value.is_array()) return value;
            mismatch(type, value);
        case ValueType::kObject:
            if (value.is_object()) return value;
            mismatch(type, value);
    }
    mismatch(type, value);
}

}  // namespace artistsaid::workflow
