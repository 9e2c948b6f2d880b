// Aligned plain-text tables for listings meant for people (JSON is the --json path).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace artistsaid::cli {

class Table {
public:
    explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
    void add_row(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    void print(std::ostream& out) const;

private:
    std::vector<std::string> headers_;
    std::vector<std::vector<std::string>> rows_;
};

}  // namespace artistsaid::cli
