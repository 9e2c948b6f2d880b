#include "cli/table.hpp"

#include <algorithm>
#include <ostream>

namespace artistsaid::cli {

void Table::print(std::ostream& out) const {
    std::vector<size_t> widths(headers_.size());
    for (size_t i = 0; i < headers_.size(); ++i) widths[i] = headers_[i].size();
    for (const auto& row : rows_)
        for (size_t i = 0; i < row.size() && i < widths.size(); ++i)
            widths[i] = std::max(widths[i], row[i].size());
    auto line = [&](const std::vector<std::string>& cells) {
        std::string text;
        for (size_t i = 0; i < widths.size(); ++i) {
            std::string cell = i < cells.size() ? cells[i] : "";
            text += cell;
            if (i + 1 < widths.size()) text += std::string(widths[i] - cell.size() + 2, ' ');
        }
        out << text << '\n';
    };
    line(headers_);
    for (const auto& row : rows_) line(row);
}

}  // namespace artistsaid::cli
