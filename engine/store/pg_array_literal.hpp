// Builds the text form of a one-dimensional PostgreSQL array ('{"a",NULL,"b"}') for a
// parameter such as `$1::uuid[]` or `$2::jsonb[]`, appending to one string.
//
// Why: libpqxx 6 has no array parameters, and sending rows as one JSON document costs the
// server a jsonb parse of every key and value and a conversion of each field back to its
// column type (jsonb_to_recordset). An array literal per column is parsed element by
// element straight into the column's type, and building it here needs no JSON tree.
//
// Every non-NULL element is written quoted, with `"` and `\` escaped (the array syntax's
// only escapes), so any text — JSON included — round-trips unchanged.
//
// Thread-safety: none (a value type).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace artistsaid::store {

class PgArrayLiteral {
public:
    PgArrayLiteral() { text_.push_back('{'); }

    /// A text element, written as is (also for uuid, integer, boolean and jsonb columns).
    void add(std::string_view value);
    /// (Without it a string literal would pick add(bool).)
    void add(const char* value) { add(std::string_view(value)); }
    /// A text element, or NULL when `value` is empty.
    void add_or_null(std::string_view value);
    void add(long long value);
    void add(bool value) { separate(), text_.push_back(value ? 't' : 'f'); }
    /// A jsonb element: `value` serialized, or NULL when it is JSON null.
    void add_json(const nlohmann::json& value);
    void add_null() { separate(), text_.append("NULL"); }

    size_t size() const noexcept { return count_; }
    /// The finished literal; the builder is empty afterwards.
    std::string release();

private:
    void separate() {
        if (count_++ != 0) text_.push_back(',');
    }
    std::string text_;
    size_t count_ = 0;
};

}  // namespace artistsaid::store
