#include "engine/store/pg_array_literal.hpp"

namespace artistsaid::store {

void PgArrayLiteral::add(std::string_view value) {
    separate();
    text_.push_back('"');
    // Whole runs between the characters to escape are appended at once.
    for (size_t at = 0; at < value.size();) {
        const size_t special = value.find_first_of("\"\\", at);
        const size_t end = special == std::string_view::npos ? value.size() : special;
        text_.append(value.data() + at, end - at);
        if (end == value.size()) break;
        text_.push_back('\\');
        text_.push_back(value[end]);
        at = end + 1;
    }
    text_.push_back('"');
}

void PgArrayLiteral::add_or_null(std::string_view value) {
    if (value.empty())
        add_null();
    else
        add(value);
}

void PgArrayLiteral::add(long long value) {
    separate();
    text_.append(std::to_string(value));
}

void PgArrayLiteral::add_json(const nlohmann::json& value) {
    if (value.is_null()) {
        add_null();
        return;
    }
    add(value.dump());
}

std::string PgArrayLiteral::release() {
    text_.push_back('}');
    std::string out = std::move(text_);
    text_.assign(1, '{');
    count_ = 0;
    return out;
}

}  // namespace artistsaid::store
