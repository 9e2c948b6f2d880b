// Evaluates a syntax tree against an EvalContext within the limits' step budget.
#pragma once

#include <cstddef>

#include "engine/workflow/detail/expression_ast.hpp"
#include "engine/workflow/eval_context.hpp"
#include "engine/workflow/value.hpp"

namespace artistsaid::workflow::detail {

/// Work done so far by one evaluation (shared by the parts of a template).
struct EvalState {
    std::size_t steps = 0;
};

/// Throws ExpressionError (offsets into the expression's source).
Value evaluate_tree(const Node& root, const EvalContext& context, EvalState& state);

}  // namespace artistsaid::workflow::detail
