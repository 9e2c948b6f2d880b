#include "engine/workflow/detail/source_text.hpp"

#include <algorithm>
#include <cstdint>

namespace artistsaid::workflow::detail {
namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::size_t utf8_length(std::uint32_t cp) {
    return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

}  // namespace

SourceText::SourceText(std::string text) : text_(std::move(text)) {
    line_starts_.push_back(0);
    for (std::size_t i = 0; i < text_.size(); ++i)
        if (text_[i] == '\n') line_starts_.push_back(i + 1);
}

std::pair<int, int> SourceText::line_column(std::size_t pos) const {
    pos = std::min(pos, text_.size());
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), pos);
    auto index = static_cast<std::size_t>(it - line_starts_.begin()) - 1;
    return {static_cast<int>(index) + 1, static_cast<int>(pos - line_starts_[index]) + 1};
}

std::size_t SourceText::offset_of(int line, int column) const {
    if (line < 1) return 0;
    auto index = static_cast<std::size_t>(line - 1);
    if (index >= line_starts_.size()) return text_.size();
    return std::min(text_.size(),
                    line_starts_[index] + static_cast<std::size_t>(std::max(column, 1) - 1));
}

std::string_view SourceText::line(int line) const {
    if (line < 1 || static_cast<std::size_t>(line) > line_starts_.size()) return {};
    std::size_t begin = line_starts_[static_cast<std::size_t>(line - 1)];
    std::size_t end = text_.find('\n', begin);
    if (end == std::string::npos) end = text_.size();
    if (end > begin && text_[end - 1] == '\r') --end;
    return std::string_view(text_).substr(begin, end - begin);
}

std::size_t SourceText::scalar_offset(std::size_t start, std::string_view value,
                                      std::size_t offset) const {
    if (start >= text_.size()) return text_.size();
    const char style = text_[start];
    std::size_t p = start;
    if (style == '"' || style == '\'') {
        ++p;
    } else if (style == '|' || style == '>') {
        p = text_.find('\n', start);
        p = p == std::string::npos ? text_.size() : p + 1;
    }
    offset = std::min(offset, value.size());
    std::size_t i = 0;
    while (i < offset && p < text_.size()) {
        if (style == '"' && text_[p] == '\\' && p + 1 < text_.size()) {
            char e = text_[p + 1];
            std::size_t width = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : 0;
            if (e == '\n' || e == '\r') {  // an escaped line break joins the lines
                p += 2;
                continue;
            }
            std::uint32_t cp = 0;
            for (std::size_t k = 0; k < width && p + 2 + k < text_.size(); ++k)
                cp = cp * 16 + static_cast<std::uint32_t>(std::max(0, hex_value(text_[p + 2 + k])));
            i += width == 0 ? 1 : utf8_length(cp);
            p += 2 + width;
            continue;
        }
        if (style == '\'' && text_[p] == '\'' && p + 1 < text_.size() && text_[p + 1] == '\'' &&
            value[i] == '\'') {
            ++i;
            p += 2;
            continue;
        }
        if (value[i] == text_[p]) ++i;
        ++p;  // otherwise a character folding or indentation removed
    }
    // Land on the character itself, not on the whitespace folded away before it.
    while (p < text_.size() && i < value.size() && value[i] != text_[p] &&
           (text_[p] == ' ' || text_[p] == '\n' || text_[p] == '\r' || text_[p] == '\t'))
        ++p;
    return std::min(p, text_.size());
}

}  // namespace artistsaid::workflow::detail
