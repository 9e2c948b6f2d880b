// Static checks of a syntax tree against an ExpressionScope, and reference queries.
#pragma once

#include <string>
#include <vector>

#include "engine/workflow/detail/expression_ast.hpp"
#include "engine/workflow/expression_error.hpp"
#include "engine/workflow/expression_scope.hpp"
#include "engine/workflow/static_type.hpp"

namespace artistsaid::workflow::detail {

StaticType check_tree(const Node& root, const ExpressionScope& scope,
                      std::vector<ExpressionIssue>& issues);

/// Appends the ids read as steps.<id> (each once, in order of appearance).
void collect_steps(const Node& node, std::vector<std::string>& ids);

/// True if the tree reads `item` or `index`.
bool reads_item(const Node& node);

}  // namespace artistsaid::workflow::detail
