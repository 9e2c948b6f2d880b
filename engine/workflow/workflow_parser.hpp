// WorkflowParser: YAML text → WorkflowDefinition, reporting every structural problem.
#pragma once

#include <optional>
#include <string>

#include "engine/workflow/diagnostics.hpp"
#include "engine/workflow/expression_limits.hpp"
#include "engine/workflow/workflow_definition.hpp"

namespace artistsaid::workflow {

/// What parse() found: a definition (possibly partial) and the problems.
struct ParseResult {
    /// Absent only if the YAML could not be read at all or is not a mapping. Otherwise it
    /// holds everything that could be read, so the validator can check the rest without
    /// cascading errors.
    std::optional<WorkflowDefinition> definition;
    Diagnostics diagnostics;
};

/// Reads the structure of a workflow file: YAML syntax, known keys (with did-you-mean),
/// node kinds and scalar types (YAML 1.2 core schema: `42` is an integer, `"42"` a string),
/// identifiers, durations, choices, cron expressions and time zones (by engine/schedule),
/// and the syntax of every `${{ }}` expression. Cross-references (uses, needs, with:,
/// expression names and types) are the Validator's job.
///
/// Thread-safety: stateless apart from its limits; parse() may run concurrently.
class WorkflowParser {
public:
    explicit WorkflowParser(ExpressionLimits limits = {}) : limits_(limits) {}

    /// Parses `text`, the contents of `file` (used in locations). A UTF-8 byte-order mark is
    /// ignored.
    ParseResult parse(std::string text, std::string file) const;

private:
    ExpressionLimits limits_;
};

}  // namespace artistsaid::workflow
