// Reads expression source into a syntax tree, enforcing ExpressionLimits as it goes.
#pragma once

#include <memory>
#include <string_view>

#include "engine/workflow/detail/expression_ast.hpp"
#include "engine/workflow/expression_limits.hpp"

namespace artistsaid::workflow::detail {

/// Parses `source`. Throws ExpressionError (offsets into `source`) for a syntax error, an
/// unknown name or function, a wrong argument count, or an exceeded limit.
std::unique_ptr<Node> parse_expression(std::string_view source, const ExpressionLimits& limits);

/// The names an expression may start with.
const std::vector<std::string>& context_names();

}  // namespace artistsaid::workflow::detail
