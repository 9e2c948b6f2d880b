#include "engine/workflow/expression.hpp"

#include "engine/workflow/detail/expression_checker.hpp"
#include "engine/workflow/detail/expression_evaluator.hpp"
#include "engine/workflow/detail/expression_parser.hpp"

namespace artistsaid::workflow {

Expression::Expression(std::string source, std::shared_ptr<const detail::Node> root)
    : source_(std::move(source)), root_(std::move(root)) {}

Expression Expression::compile(std::string_view source, const ExpressionLimits& limits) {
    std::shared_ptr<const detail::Node> root = detail::parse_expression(source, limits);
    return Expression(std::string(source), std::move(root));
}

Value Expression::evaluate(const EvalContext& context) const {
    detail::EvalState state;
    return evaluate(context, state);
}

Value Expression::evaluate(const EvalContext& context, detail::EvalState& state) const {
    return detail::evaluate_tree(*root_, context, state);
}

StaticType Expression::check(const ExpressionScope& scope,
                             std::vector<ExpressionIssue>& issues) const {
    return detail::check_tree(*root_, scope, issues);
}

std::vector<std::string> Expression::referenced_steps() const {
    std::vector<std::string> ids;
    detail::collect_steps(*root_, ids);
    return ids;
}

bool Expression::uses_item() const { return detail::reads_item(*root_); }

}  // namespace artistsaid::workflow
