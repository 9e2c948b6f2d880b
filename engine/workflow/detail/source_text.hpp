// The text of a workflow file, indexed by line, and the mapping from a character inside a
// YAML scalar's value back to its byte in the file (for columns inside expressions).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace artistsaid::workflow::detail {

class SourceText {
public:
    explicit SourceText(std::string text);

    const std::string& text() const noexcept { return text_; }

    /// 1-based line and column (in bytes) of byte offset `pos`.
    std::pair<int, int> line_column(std::size_t pos) const;

    /// The byte offset of a 1-based line and column (clamped to the text).
    std::size_t offset_of(int line, int column) const;

    /// Line `line` (1-based) without its line break; empty if out of range.
    std::string_view line(int line) const;

    /// The byte offset in the file of byte `offset` of `value`, the value of the YAML scalar
    /// whose node starts at byte `start` (yaml-cpp's mark: the first character of a plain
    /// scalar, the opening quote, or the '|' / '>' of a block scalar). Follows quoting,
    /// escapes, line folding and block indentation.
    std::size_t scalar_offset(std::size_t start, std::string_view value, std::size_t offset) const;

private:
    std::string text_;
    std::vector<std::size_t> line_starts_;
};

}  // namespace artistsaid::workflow::detail
