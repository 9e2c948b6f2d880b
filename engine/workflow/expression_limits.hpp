// The bounds that keep an expression's cost small whatever a workflow file or a run's data
// contain. Exceeding one is an ExpressionError with a clear message, never a crash.
#pragma once

#include <cstddef>

namespace artistsaid::workflow {

struct ExpressionLimits {
    /// Bytes of source between `${{` and `}}`.
    std::size_t max_expression_bytes = 4096;
    /// Nesting: parentheses, brackets, calls, chains of unary operators, and the height of the
    /// syntax tree (so a chain of 10,000 `+` is refused too). Bounds every recursion.
    int max_depth = 64;
    /// Units of work per evaluation (one per node, plus one per element or KiB a function
    /// walks). A template or a `with:` block shares one budget across its expressions.
    std::size_t max_steps = 1'000'000;
    /// Bytes of any string an expression produces (literals, `+`, format(), join(),
    /// interpolation).
    std::size_t max_string_bytes = 1u << 20;
};

}  // namespace artistsaid::workflow
