// The function table of the expression language: names and arities for the parser, and
// the implementations the evaluator and checker dispatch to by index.
#pragma once

#include <string_view>
#include <vector>

namespace artistsaid::workflow::detail {

enum class Function {
    kToday,
    kNow,
    kAddDays,
    kFormat,
    kLen,
    kContains,
    kDefault,
    kLower,
    kUpper,
    kJoin,
    kStartsWith,
    kEndsWith,
    kString,
    kMoney,
};

struct FunctionSpec {
    Function id;
    std::string_view name;
    int min_args;
    int max_args;                // -1: any number
    std::string_view signature;  // for messages: "add_days(date, days)"
};

const std::vector<FunctionSpec>& function_specs();

/// The index of `name` in function_specs(), or -1.
int find_function(std::string_view name) noexcept;

}  // namespace artistsaid::workflow::detail
