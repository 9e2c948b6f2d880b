// Diagnostics: every problem found in one workflow file, with its position, rendered the
// way compilers do (file:line:column, the line, a caret, what was expected).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/error.hpp"

namespace artistsaid::workflow {

namespace detail {
class SourceText;
}

/// One problem in a workflow file.
struct Diagnostic {
    SourceLocation where;  // file, 1-based line and column (bytes)
    std::string message;   // what is wrong: "unknown key 'neds' in step 'charge'"
    std::string expected;  // what would be right: "one of id, uses, with, needs, ..."
    std::string hint;      // a suggestion: "did you mean 'needs'?"
};

/// The diagnostics of one file, sorted by position when read.
///
///   billing.yaml:12:5: error: unknown key 'neds' in step 'charge'
///      12 |     neds: [invoices]
///         |     ^
///         = expected: one of id, name, uses, with, needs, if, ...
///         = help: did you mean 'needs'?
///
/// At most kMaxDiagnostics are kept; one more says that the rest were dropped.
/// Thread-safety: not synchronised; one per file and thread.
class Diagnostics {
public:
    static constexpr std::size_t kMaxDiagnostics = 100;
    /// Longer source lines are shown as a window of this many bytes around the column.
    static constexpr std::size_t kMaxShownLine = 160;

    Diagnostics(std::string file, std::string source);
    ~Diagnostics();
    Diagnostics(Diagnostics&&) noexcept;
    Diagnostics& operator=(Diagnostics&&) noexcept;

    const std::string& file() const noexcept { return file_; }
    const std::string& source() const noexcept;
    const detail::SourceText& text() const noexcept { return *text_; }

    /// A location in this file.
    SourceLocation at(int line, int column) const { return {file_, line, column}; }
    /// The location of byte offset `pos` of the source.
    SourceLocation at_offset(std::size_t pos) const;
    /// The location of byte `offset` of `value`, the value of the YAML scalar written at
    /// `scalar` (its node's start): follows quotes, escapes and line folding, so an error
    /// inside an expression points at the very character in the file.
    SourceLocation inside(const SourceLocation& scalar, std::string_view value,
                          std::size_t offset) const;

    void add(Diagnostic diagnostic);
    void error(SourceLocation where, std::string message, std::string expected = "",
               std::string hint = "");

    bool empty() const noexcept { return items_.empty(); }
    std::size_t size() const noexcept { return items_.size(); }
    /// Sorted by line, then column, then the order they were found.
    const std::vector<Diagnostic>& items() const;

    /// Every diagnostic rendered as above, separated by blank lines.
    std::string render() const;
    /// One diagnostic rendered as above.
    std::string render(const Diagnostic& diagnostic) const;

    /// [{"file", "line", "column", "message", "expected", "hint"}, ...]
    nlohmann::json to_json() const;

private:
    std::string file_;
    std::unique_ptr<detail::SourceText> text_;
    mutable std::vector<Diagnostic> items_;
    mutable bool sorted_ = true;
    bool truncated_ = false;
};

/// Thrown when a workflow is loaded for use (Validator::load_file) and has errors.
/// what() is the first diagnostic and a count; diagnostics() holds them all.
class InvalidWorkflowError : public InputError {
public:
    explicit InvalidWorkflowError(Diagnostics diagnostics);
    const Diagnostics& diagnostics() const noexcept { return *diagnostics_; }

private:
    static std::string summary(const Diagnostics& diagnostics);
    std::shared_ptr<const Diagnostics> diagnostics_;
};

}  // namespace artistsaid::workflow
