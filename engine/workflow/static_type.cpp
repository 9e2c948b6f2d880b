#include "engine/workflow/static_type.hpp"

namespace artistsaid::workflow {

std::string_view describe(StaticType type) noexcept {
    switch (type) {
        case StaticType::kAny:
            return "any value";
        case StaticType::kNull:
            return "null";
        case StaticType::kBoolean:
            return "a boolean";
        case StaticType::kInteger:
            return "an integer";
        case StaticType::kString:
            return "a string";
        case StaticType::kMoney:
            return "money";
        case StaticType::kArray:
            return "an array";
        case StaticType::kObject:
            return "an object";
    }
    return "any value";
}

StaticType static_type_of(ValueType type) noexcept {
    switch (type) {
        case ValueType::kString:
        case ValueType::kDate:
        case ValueType::kDatetime:
        case ValueType::kDuration:
            return StaticType::kString;
        case ValueType::kInteger:
            return StaticType::kInteger;
        case ValueType::kBoolean:
            return StaticType::kBoolean;
        case ValueType::kMoney:
            return StaticType::kMoney;
        case ValueType::kArray:
            return StaticType::kArray;
        case ValueType::kObject:
            return StaticType::kObject;
        case ValueType::kAny:
            return StaticType::kAny;
    }
    return StaticType::kAny;
}

bool may_coerce(StaticType actual, ValueType declared) noexcept {
    if (actual == StaticType::kAny || declared == ValueType::kAny) return true;
    switch (declared) {
        case ValueType::kString:
            return actual == StaticType::kString || actual == StaticType::kInteger ||
                   actual == StaticType::kBoolean || actual == StaticType::kMoney;
        case ValueType::kInteger:
            return actual == StaticType::kInteger || actual == StaticType::kString;
        case ValueType::kBoolean:
            return actual == StaticType::kBoolean || actual == StaticType::kString;
        case ValueType::kDate:
        case ValueType::kDatetime:
        case ValueType::kDuration:
            return actual == StaticType::kString;
        case ValueType::kMoney:
            return actual == StaticType::kMoney || actual == StaticType::kString;
        case ValueType::kArray:
            return actual == StaticType::kArray;
        case ValueType::kObject:
            return actual == StaticType::kObject || actual == StaticType::kMoney;
        case ValueType::kAny:
            return true;
    }
    return true;
}

}  // namespace artistsaid::workflow
