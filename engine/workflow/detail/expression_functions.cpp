#include "engine/workflow/detail/expression_functions.hpp"

#include "engine/workflow/detail/expression_ast.hpp"

namespace artistsaid::workflow::detail {

const std::vector<FunctionSpec>& function_specs() {
    static const std::vector<FunctionSpec> specs = {
        {Function::kToday, "today", 0, 0, "today()"},
        {Function::kNow, "now", 0, 0, "now()"},
        {Function::kAddDays, "add_days", 2, 2, "add_days(date_or_datetime, days)"},
        {Function::kFormat, "format", 1, -1, "format(template, args...)"},
        {Function::kLen, "len", 1, 1, "len(string_or_array_or_object)"},
        {Function::kContains, "contains", 2, 2, "contains(string_or_array, value)"},
        {Function::kDefault, "default", 2, 2, "default(value, fallback)"},
        {Function::kLower, "lower", 1, 1, "lower(string)"},
        {Function::kUpper, "upper", 1, 1, "upper(string)"},
        {Function::kJoin, "join", 1, 2, "join(array, separator = ',')"},
        {Function::kStartsWith, "starts_with", 2, 2, "starts_with(string, prefix)"},
        {Function::kEndsWith, "ends_with", 2, 2, "ends_with(string, suffix)"},
        {Function::kString, "string", 1, 1, "string(value)"},
        {Function::kMoney, "money", 1, 2, "money('12.34 USD') or money('12.34', 'USD')"},
    };
    return specs;
}

int find_function(std::string_view name) noexcept {
    const auto& specs = function_specs();
    for (size_t i = 0; i < specs.size(); ++i)
        if (specs[i].name == name) return static_cast<int>(i);
    return -1;
}

const char* op_text(Op op) noexcept {
    switch (op) {
        case Op::kNone:
            return "";
        case Op::kNot:
            return "!";
        case Op::kNeg:
            return "-";
        case Op::kOr:
            return "||";
        case Op::kAnd:
            return "&&";
        case Op::kEq:
            return "==";
        case Op::kNe:
            return "!=";
        case Op::kLt:
            return "<";
        case Op::kLe:
            return "<=";
        case Op::kGt:
            return ">";
        case Op::kGe:
            return ">=";
        case Op::kAdd:
            return "+";
        case Op::kSub:
            return "-";
        case Op::kMul:
            return "*";
        case Op::kDiv:
            return "/";
        case Op::kMod:
            return "%";
    }
    return "";
}

}  // namespace artistsaid::workflow::detail
