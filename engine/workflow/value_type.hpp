// ValueType: the types a workflow input or a step field may declare, and the one function
// that turns a JSON value into a value of that type (or says why it cannot).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/error.hpp"

namespace artistsaid::workflow {

/// The declared type of a workflow input or of a step type's input/output field.
///
/// How each is held at run time (JSON, so a run's inputs and outputs can be stored as is):
///   string    a JSON string
///   integer   a JSON integer (int64)
///   boolean   true / false
///   date      "YYYY-MM-DD" (a real calendar date)
///   datetime  RFC 3339, "2024-05-01T09:30:00Z" or with an offset "+02:00"
///   money     {"amount_minor": 1234, "currency": "USD"} (see value.hpp)
///   duration  the canonical text of engine/core/duration.hpp ("1m30s")
///   array     a JSON array;  object  a JSON object
///   any       anything (step fields only; workflow inputs must name a concrete type)
enum class ValueType {
    kString,
    kInteger,
    kBoolean,
    kDate,
    kDatetime,
    kMoney,
    kDuration,
    kArray,
    kObject,
    kAny,
};

/// The name used in YAML ("datetime").
std::string_view to_string(ValueType type) noexcept;

/// The type of a YAML name; std::nullopt if unknown. "any" is accepted only when
/// `allow_any` is true (step fields), not for workflow inputs.
std::optional<ValueType> parse_value_type(std::string_view name, bool allow_any = false) noexcept;

/// The names accepted for workflow inputs, in documentation order.
const std::vector<std::string>& input_type_names();

/// A short description of the expected form, for error messages ("a date (YYYY-MM-DD)").
std::string expected_form(ValueType type);

/// Converts `value` to the canonical form of `type`, or throws InputError naming what was
/// expected. Accepted besides the canonical form:
///   string    integers, booleans and money are written as text ("42", "true", "12.34 USD")
///   integer   a string of decimal digits with an optional sign ("42", as from --input)
///   boolean   the strings "true" / "false"
///   money     the text "12.34 USD" or "USD 12.34" (engine/core/money.hpp)
///   duration  any text parse_duration() reads ("90s" becomes "1m30s")
/// Messages quote at most 40 characters of the offending value.
nlohmann::json coerce_value(ValueType type, const nlohmann::json& value);

}  // namespace artistsaid::workflow
