// StaticType: what validation can tell about the type of an expression before a run.
#pragma once

#include <string_view>

#include "engine/workflow/value_type.hpp"

namespace artistsaid::workflow {

/// The type an expression is known to produce. kAny means "cannot tell before the run"
/// (an `item`, an output declared as any, a member of an object), and is compatible with
/// everything. Dates, datetimes and durations are strings to the expression language.
enum class StaticType { kAny, kNull, kBoolean, kInteger, kString, kMoney, kArray, kObject };

/// "a string", "an integer", "money", ... for messages.
std::string_view describe(StaticType type) noexcept;

/// The static type of a value of a declared type.
StaticType static_type_of(ValueType type) noexcept;

/// False only if a value of static type `actual` can never be coerced to `declared`
/// (coerce_value): a boolean where an integer is declared, an array for a string.
bool may_coerce(StaticType actual, ValueType declared) noexcept;

}  // namespace artistsaid::workflow
