#include "engine/workflow/diagnostics.hpp"

#include <algorithm>

#include "engine/workflow/detail/source_text.hpp"

namespace artistsaid::workflow {

Diagnostics::Diagnostics(std::string file, std::string source)
    : file_(std::move(file)), text_(std::make_unique<detail::SourceText>(std::move(source))) {}

Diagnostics::~Diagnostics() = default;
Diagnostics::Diagnostics(Diagnostics&&) noexcept = default;
Diagnostics& Diagnostics::operator=(Diagnostics&&) noexcept = default;

const std::string& Diagnostics::source() const noexcept { return text_->text(); }

SourceLocation Diagnostics::at_offset(std::size_t pos) const {
    auto [line, column] = text_->line_column(pos);
    return at(line, column);
}

SourceLocation Diagnostics::inside(const SourceLocation& scalar, std::string_view value,
                                   std::size_t offset) const {
    std::size_t start = text_->offset_of(scalar.line, scalar.column);
    return at_offset(text_->scalar_offset(start, value, offset));
}

void Diagnostics::add(Diagnostic diagnostic) {
    if (items_.size() >= kMaxDiagnostics) {
        if (!truncated_) {
            truncated_ = true;
            items_.push_back({diagnostic.where,
                              "too many errors; stopped after " + std::to_string(kMaxDiagnostics),
                              "", ""});
        }
        return;
    }
    if (diagnostic.where.file.empty()) diagnostic.where.file = file_;
    items_.push_back(std::move(diagnostic));
    sorted_ = false;
}

void Diagnostics::error(SourceLocation where, std::string message, std::string expected,
                        std::string hint) {
    add({std::move(where), std::move(message), std::move(expected), std::move(hint)});
}

const std::vector<Diagnostic>& Diagnostics::items() const {
    if (!sorted_) {
        std::stable_sort(items_.begin(), items_.end(),
                         [](const Diagnostic& a, const Diagnostic& b) {
                             if (a.where.line != b.where.line) return a.where.line < b.where.line;
                             return a.where.column < b.where.column;
                         });
        sorted_ = true;
    }
    return items_;
}

std::string Diagnostics::render(const Diagnostic& d) const {
    std::string out = d.where.file + ":" + std::to_string(d.where.line) + ":" +
                      std::to_string(d.where.column) + ": error: " + d.message + "\n";
    std::string number = std::to_string(d.where.line);
    std::string gutter(number.size() + 2, ' ');
    std::string_view line = text_->line(d.where.line);
    auto column = static_cast<std::size_t>(std::max(d.where.column, 1) - 1);
    // A very long line is shown as a window around the column.
    std::string prefix;
    std::string suffix;
    if (line.size() > kMaxShownLine) {
        std::size_t start = column > kMaxShownLine / 2 ? column - kMaxShownLine / 2 : 0;
        while (start > 0 && start < line.size() &&
               (static_cast<unsigned char>(line[start]) & 0xC0) == 0x80)
            --start;  // do not cut a UTF-8 character in half
        std::size_t end = std::min(line.size(), start + kMaxShownLine);
        while (end < line.size() && (static_cast<unsigned char>(line[end]) & 0xC0) == 0x80) ++end;
        if (start > 0) prefix = "...";
        if (end < line.size()) suffix = "...";
        line = line.substr(start, end - start);
        column = column >= start ? column - start : 0;
    }
    out += " " + number + " | " + prefix + std::string(line) + suffix + "\n";
    // The caret goes under the column: copy tabs so it lines up, count UTF-8 characters once.
    std::string pad = prefix.empty() ? "" : "   ";
    for (std::size_t i = 0; i < column && i < line.size(); ++i) {
        char c = line[i];
        if (c == '\t') {
            pad += '\t';
        } else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
            pad += ' ';
        }
    }
    if (column > line.size()) pad += std::string(column - line.size(), ' ');
    out += gutter + "| " + pad + "^\n";
    if (!d.expected.empty()) out += gutter + "= expected: " + d.expected + "\n";
    if (!d.hint.empty()) out += gutter + "= help: " + d.hint + "\n";
    return out;
}

std::string Diagnostics::render() const {
    std::string out;
    for (const auto& d : items()) {
        if (!out.empty()) out += "\n";
        out += render(d);
    }
    return out;
}

nlohmann::json Diagnostics::to_json() const {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& d : items())
        out.push_back({{"file", d.where.file},
                       {"line", d.where.line},
                       {"column", d.where.column},
                       {"message", d.message},
                       {"expected", d.expected},
                       {"hint", d.hint}});
    return out;
}

InvalidWorkflowError::InvalidWorkflowError(Diagnostics diagnostics)
    : InputError(summary(diagnostics)),
      diagnostics_(std::make_shared<const Diagnostics>(std::move(diagnostics))) {}

std::string InvalidWorkflowError::summary(const Diagnostics& diagnostics) {
    if (diagnostics.empty()) return diagnostics.file() + ": invalid workflow";
    const Diagnostic& first = diagnostics.items().front();
    std::string out = first.where.file + ":" + std::to_string(first.where.line) + ":" +
                      std::to_string(first.where.column) + ": " + first.message;
    if (diagnostics.size() > 1)
        out += " (and " + std::to_string(diagnostics.size() - 1) + " more error" +
               (diagnostics.size() == 2 ? "" : "s") + ")";
    return out;
}

}  // namespace artistsaid::workflow
