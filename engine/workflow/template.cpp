#include "engine/workflow/template.hpp"

#include "engine/workflow/detail/expression_evaluator.hpp"

namespace artistsaid::workflow {
namespace {

// The end of the expression that starts at `from` (just after "${{"): the position of the
// closing "}}" outside string literals, or npos.
std::size_t find_close(std::string_view text, std::size_t from) {
    char quote = 0;
    for (std::size_t i = from; i < text.size(); ++i) {
        char c = text[i];
        if (quote != 0) {
            if (c == '\\') {
                ++i;
            } else if (c == quote) {
                quote = 0;
            }
        } else if (c == '\'' || c == '"') {
            quote = c;
        } else if (c == '}' && i + 1 < text.size() && text[i + 1] == '}') {
            return i;
        }
    }
    return std::string_view::npos;
}

}  // namespace

bool Template::contains_expression(std::string_view text) noexcept {
    return text.find("${{") != std::string_view::npos;
}

Template Template::parse(std::string_view text, const ExpressionLimits& limits) {
    std::vector<ExpressionIssue> issues;
    auto parsed = parse(text, issues, limits);
    if (!parsed) throw ExpressionError(issues.front());
    return std::move(*parsed);
}

std::optional<Template> Template::parse(std::string_view text, std::vector<ExpressionIssue>& issues,
                                        const ExpressionLimits& limits) {
    Template out;
    out.text_ = std::string(text);
    std::size_t before = issues.size();
    std::size_t pos = 0;
    while (pos <= text.size()) {
        std::size_t open = text.find("${{", pos);
        if (open == std::string_view::npos) {
            if (pos < text.size() || out.parts_.empty())
                out.parts_.push_back({std::string(text.substr(pos)), std::nullopt, text.size()});
            break;
        }
        std::size_t start = open + 3;
        std::size_t close = find_close(text, start);
        if (close == std::string_view::npos) {
            issues.push_back({open, "'${{' is not closed", "'}}' after the expression", ""});
            break;
        }
        Part part;
        part.literal = std::string(text.substr(pos, open - pos));
        part.offset = start;
        try {
            part.expression = Expression::compile(text.substr(start, close - start), limits);
        } catch (const ExpressionError& e) {
            ExpressionIssue issue = e.issue();
            issue.offset += start;
            issues.push_back(std::move(issue));
        }
        out.parts_.push_back(std::move(part));
        pos = close + 2;
        if (pos == text.size()) break;
    }
    if (issues.size() != before) return std::nullopt;
    return out;
}

bool Template::is_literal() const noexcept {
    for (const auto& p : parts_)
        if (p.expression) return false;
    return true;
}

bool Template::is_single_expression() const noexcept {
    return parts_.size() == 1 && parts_[0].expression && parts_[0].literal.empty();
}

Value Template::render(const EvalContext& context) const {
    detail::EvalState state;
    return render(context, state);
}

Value Template::render(const EvalContext& context, detail::EvalState& state) const {
    if (is_single_expression()) return parts_[0].expression->evaluate(context, state);
    std::string out;
    bool secret = false;
    for (const auto& part : parts_) {
        out += part.literal;
        if (part.expression) {
            Value v = part.expression->evaluate(context, state);
            secret = secret || v.is_secret();
            out += v.text();
        }
        if (out.size() > context.limits.max_string_bytes)
            throw ExpressionError(
                ExpressionIssue{part.offset,
                                "the rendered string is longer than " +
                                    std::to_string(context.limits.max_string_bytes) + " bytes",
                                "a shorter result", ""});
    }
    return Value(std::move(out), secret);
}

}  // namespace artistsaid::workflow
