// Expression: one compiled `${{ … }}` expression of the workflow language.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/workflow/eval_context.hpp"
#include "engine/workflow/expression_error.hpp"
#include "engine/workflow/expression_limits.hpp"
#include "engine/workflow/expression_scope.hpp"
#include "engine/workflow/static_type.hpp"
#include "engine/workflow/value.hpp"

namespace artistsaid::workflow {

namespace detail {
struct Node;
struct EvalState;
}  // namespace detail

/// A compiled expression: literals (null, true, false, integers, 'strings', [arrays]),
/// the contexts inputs / steps / item / index / env / secrets / run, member and index
/// access, ! - * / % + - < <= > >= == != && ||, and a fixed set of pure functions
/// (today, now, add_days, format, len, contains, default, lower, upper, join,
/// starts_with, ends_with, string, money). There is no I/O, no loop and no user function,
/// so cost is bounded by ExpressionLimits. docs/workflows.md is the language reference.
///
/// Thread-safety: immutable after compile(); evaluate() may run concurrently from many
/// threads (the syntax tree is shared between copies).
///
/// Guarantee: compile() and evaluate() either succeed or throw ExpressionError with an
/// offset into the source; hostile input (deep nesting, huge literals, long operator
/// chains) is refused by a limit before it can exhaust the stack or memory.
class Expression {
public:
    /// Compiles `source` (the text between `${{` and `}}`). Throws ExpressionError for a
    /// syntax error, an unknown function or wrong argument count, or an exceeded limit.
    static Expression compile(std::string_view source, const ExpressionLimits& limits = {});

    /// Evaluates against `context`. Throws ExpressionError for a run-time type error,
    /// overflow, division by zero, a missing secret or an exceeded limit; messages never
    /// show a secret's value.
    Value evaluate(const EvalContext& context) const;

    /// Checks names and types against `scope`, appending one issue per problem (offsets
    /// into source()), and returns the expression's static type.
    StaticType check(const ExpressionScope& scope, std::vector<ExpressionIssue>& issues) const;

    /// Ids of the steps read as `steps.<id>…`, in order of first appearance.
    std::vector<std::string> referenced_steps() const;

    /// True if the expression reads `item` or `index`.
    bool uses_item() const;

    const std::string& source() const noexcept { return source_; }

private:
    friend class Template;
    Expression(std::string source, std::shared_ptr<const detail::Node> root);
    Value evaluate(const EvalContext& context, detail::EvalState& state) const;

    std::string source_;
    std::shared_ptr<const detail::Node> root_;
};

}  // namespace artistsaid::workflow
