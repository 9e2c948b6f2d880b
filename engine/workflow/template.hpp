// Template: a string that may contain `${{ … }}` expressions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/workflow/eval_context.hpp"
#include "engine/workflow/expression.hpp"

namespace artistsaid::workflow {

/// A string of literal text and `${{ expression }}` parts, as written in a workflow.
///
/// Rendering: a string that is exactly one `${{ }}` (nothing around it) yields the
/// expression's typed value — `"${{ inputs.amount }}"` is money, not text. Any other string
/// renders to a string: literal text plus each expression's Value::text(). The result is
/// secret if any part is. Inside `${{ }}`, `}}` ends the expression unless it is inside a
/// quoted string literal. The total rendered size obeys ExpressionLimits::max_string_bytes,
/// and all parts share one evaluation-step budget.
///
/// Thread-safety: immutable after parse(); render() may run concurrently.
class Template {
public:
    struct Part {
        std::string literal;                   // text before the expression (or the tail)
        std::optional<Expression> expression;  // absent for trailing text
        std::size_t offset = 0;                // where the expression's source starts in text()
    };

    /// Parses `text`. Throws ExpressionError (offset into `text`) at the first bad part.
    static Template parse(std::string_view text, const ExpressionLimits& limits = {});

    /// Parses `text`, appending one issue per bad part (offsets into `text`) instead of
    /// throwing; std::nullopt if there was any.
    static std::optional<Template> parse(std::string_view text,
                                         std::vector<ExpressionIssue>& issues,
                                         const ExpressionLimits& limits = {});

    /// True if `text` contains "${{".
    static bool contains_expression(std::string_view text) noexcept;

    const std::string& text() const noexcept { return text_; }
    const std::vector<Part>& parts() const noexcept { return parts_; }

    /// No expressions: render() returns text() as is.
    bool is_literal() const noexcept;
    /// Exactly one expression and no literal text around it.
    bool is_single_expression() const noexcept;

    Value render(const EvalContext& context) const;

private:
    friend class ValueTemplate;
    Value render(const EvalContext& context, detail::EvalState& state) const;

    std::string text_;
    std::vector<Part> parts_;
};

}  // namespace artistsaid::workflow
