// CronSyntaxError: a cron expression that does not parse, and the column where it went wrong.
#pragma once

#include <string>

#include "engine/core/error.hpp"

namespace artistsaid::schedule {

/// Thrown by CronSchedule::parse. An InputError (exit code 2): the user's expression is
/// wrong. what() is "invalid cron expression '<text>': column N: <reason>"; column() is the
/// 1-based byte column within the expression, so a validator can add the column where the
/// expression starts in its YAML file and point at the exact character.
class CronSyntaxError : public InputError {
public:
    CronSyntaxError(std::string expression, int column, std::string reason)
        : InputError("invalid cron expression '" + expression + "': column " +
                     std::to_string(column) + ": " + reason),
          expression_(std::move(expression)),
          column_(column),
          reason_(std::move(reason)) {}

    const std::string& expression() const noexcept { return expression_; }
    int column() const noexcept { return column_; }
    /// What is wrong and what was expected, without the column ("minute 61 out of range 0-59").
    const std::string& reason() const noexcept { return reason_; }

private:
    std::string expression_;
    int column_;
    std::string reason_;
};

}  // namespace artistsaid::schedule
