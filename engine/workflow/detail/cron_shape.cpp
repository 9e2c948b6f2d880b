#include "engine/workflow/detail/cron_shape.hpp"

#include <array>
#include <vector>

namespace artistsaid::workflow::detail {
namespace {

struct FieldSpec {
    const char* name;
    int min;
    int max;
    std::array<const char*, 12> names;  // for month and day-of-week, else empty
};

constexpr std::array<FieldSpec, 5> kFields{{
    {"minute", 0, 59, {}},
    {"hour", 0, 23, {}},
    {"day-of-month", 1, 31, {}},
    {"month",
     1,
     12,
     {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}},
    {"day-of-week", 0, 7, {"sun", "mon", "tue", "wed", "thu", "fri", "sat"}},
}};

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Reads a number or a name at `pos`; nullopt if neither.
std::optional<int> value_at(const FieldSpec& spec, std::string_view text, std::size_t& pos) {
    if (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        int v = 0;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
            v = v * 10 + (text[pos] - '0');
            if (v > 1000) v = 1000;
            ++pos;
        }
        return v;
    }
    if (pos + 3 <= text.size()) {
        for (std::size_t i = 0; i < spec.names.size() && spec.names[i] != nullptr; ++i) {
            const char* n = spec.names[i];
            if (lower(text[pos]) == n[0] && lower(text[pos + 1]) == n[1] &&
                lower(text[pos + 2]) == n[2]) {
                pos += 3;
                return static_cast<int>(i) + spec.min;
            }
        }
    }
    return std::nullopt;
}

std::optional<CronProblem> check_field(const FieldSpec& spec, std::string_view field,
                                       std::size_t base) {
    std::string range = std::string(spec.name) + " must be " + std::to_string(spec.min) + "-" +
                        std::to_string(spec.max);
    std::size_t pos = 0;
    while (true) {
        std::size_t item = pos;
        if (pos < field.size() && field[pos] == '*') {
            ++pos;
        } else {
            auto first = value_at(spec, field, pos);
            if (!first)
                return CronProblem{base + item, "invalid " + std::string(spec.name) + " field '" +
                                                    std::string(field) +
                                                    "': expected *, a number, a range or a list"};
            if (*first < spec.min || *first > spec.max)
                return CronProblem{base + item, range + ", not " + std::to_string(*first)};
            if (pos < field.size() && field[pos] == '-') {
                std::size_t at = ++pos;
                auto last = value_at(spec, field, pos);
                if (!last || *last < spec.min || *last > spec.max || *last < *first)
                    return CronProblem{base + at, "invalid range in the " + std::string(spec.name) +
                                                      " field: " + range +
                                                      " and the end must not be before the start"};
            }
        }
        if (pos < field.size() && field[pos] == '/') {
            std::size_t at = ++pos;
            int step = 0;
            while (pos < field.size() && field[pos] >= '0' && field[pos] <= '9' && step <= 1000)
                step = step * 10 + (field[pos++] - '0');
            if (pos == at || step < 1 || step > spec.max)
                return CronProblem{base + at, "invalid step in the " + std::string(spec.name) +
                                                  " field: expected /1 to /" +
                                                  std::to_string(spec.max)};
        }
        if (pos == field.size()) return std::nullopt;
        if (field[pos] != ',')
            return CronProblem{base + pos, "unexpected '" + std::string(1, field[pos]) +
                                               "' in the " + std::string(spec.name) + " field"};
        ++pos;
    }
}

}  // namespace

std::optional<CronProblem> check_cron_shape(std::string_view text) {
    if (!text.empty() && text[0] == '@') {
        for (const char* macro :
             {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"})
            if (text == macro) return std::nullopt;
        return CronProblem{0, "unknown cron macro '" + std::string(text) +
                                  "': expected @yearly, @annually, @monthly, @weekly, @daily, "
                                  "@midnight or @hourly"};
    }
    struct Field {
        std::size_t offset;
        std::string_view text;
    };
    std::vector<Field> fields;
    std::size_t pos = 0;
    while (pos < text.size()) {
        while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
        if (pos >= text.size()) break;
        std::size_t start = pos;
        while (pos < text.size() && text[pos] != ' ' && text[pos] != '\t') ++pos;
        fields.push_back({start, text.substr(start, pos - start)});
    }
    if (fields.size() != 5)
        return CronProblem{fields.size() > 5 ? fields[5].offset : 0,
                           "a cron expression has 5 fields (minute hour day-of-month month "
                           "day-of-week); this one has " +
                               std::to_string(fields.size())};
    for (std::size_t i = 0; i < 5; ++i)
        if (auto problem = check_field(kFields[i], fields[i].text, fields[i].offset))
            return problem;
    return std::nullopt;
}

}  // namespace artistsaid::workflow::detail
