// ExpressionIssue and ExpressionError: what is wrong with an expression, and where.
#pragma once

#include <cstddef>
#include <string>

#include "engine/core/error.hpp"

namespace artistsaid::workflow {

/// One problem found in an expression or a template string: a syntax error, a type error,
/// an unknown name, or a limit exceeded. `offset` is a byte offset into the text that was
/// compiled (the expression source for Expression, the whole string for Template), which
/// the validator turns into a line and column of the YAML file. Messages never contain
/// values of secrets.
struct ExpressionIssue {
    std::size_t offset = 0;
    std::string message;   // what is wrong
    std::string expected;  // what would have been right (may be empty)
    std::string hint;      // e.g. "did you mean 'inputs'?" (may be empty)
};

/// Thrown by Expression::compile / Template::parse for a syntax error and by evaluation for a
/// run-time error (a type mismatch the validator could not see, an overflow, a limit).
/// An InputError: the workflow or its data is wrong, not the engine. what() is
/// "<message> (at offset N)"; issue() holds the parts.
class ExpressionError : public InputError {
public:
    explicit ExpressionError(ExpressionIssue issue, ErrorCode code = ErrorCode::kInvalidInput)
        : InputError(describe(issue), code), issue_(std::move(issue)) {}

    const ExpressionIssue& issue() const noexcept { return issue_; }
    std::size_t offset() const noexcept { return issue_.offset; }

private:
    static std::string describe(const ExpressionIssue& issue) {
        std::string text = issue.message;
        if (!issue.expected.empty()) text += "; expected " + issue.expected;
        if (!issue.hint.empty()) text += " (" + issue.hint + ")";
        return text + " (at offset " + std::to_string(issue.offset) + ")";
    }
    ExpressionIssue issue_;
};

}  // namespace artistsaid::workflow
