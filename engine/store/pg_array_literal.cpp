#include "engine/store/pg_array_literal.hpp"

namespace artistsaid::store {

void PgArrayLiteral::add(std::string_view value) {
    separate();
    text_.push_back('"');
    // Whole runs between the characters to escape are appended at once.
    const char* run = value.data();
    const char* const end = value.data() + value.size();
    for (const char* c = run; c != end; ++c) {
        if (*c != '"' && *c != '\\') continue;
        text_.append(run, static_cast<size_t>(c - run));
        text_.push_back('\\');
        run = c;  // the escaped character starts the next run
    }
    text_.append(run, static_cast<size_t>(end - run));
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
