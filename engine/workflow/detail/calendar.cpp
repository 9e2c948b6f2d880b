#include "engine/workflow/detail/calendar.hpp"

#include <cstdio>

namespace artistsaid::workflow::detail {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `width` digits at `pos`.
std::optional<int> digits(std::string_view text, size_t pos, size_t width) {
    if (pos + width > text.size()) return std::nullopt;
    int value = 0;
    for (size_t i = pos; i < pos + width; ++i) {
        if (!is_digit(text[i])) return std::nullopt;
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

}  // namespace

std::optional<std::chrono::sys_days> parse_date(std::string_view text) {
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
    auto y = digits(text, 0, 4);
    auto m = digits(text, 5, 2);
    auto d = digits(text, 8, 2);
    if (!y || !m || !d || *y < 1) return std::nullopt;
    std::chrono::year_month_day ymd{std::chrono::year{*y},
                                    std::chrono::month{static_cast<unsigned>(*m)},
                                    std::chrono::day{static_cast<unsigned>(*d)}};
    if (!ymd.ok()) return std::nullopt;
    return std::chrono::sys_days{ymd};
}

std::string format_date(std::chrono::sys_days day) {
    std::chrono::year_month_day ymd{day};
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
    return buffer;
}

std::optional<DateTime> parse_datetime(std::string_view text) {
    if (text.size() < 20) return std::nullopt;
    auto date = parse_date(text.substr(0, 10));
    if (!date || (text[10] != 'T' && text[10] != 't') || text[13] != ':' || text[16] != ':')
        return std::nullopt;
    DateTime out;
    out.date = *date;
    auto h = digits(text, 11, 2);
    auto mi = digits(text, 14, 2);
    auto s = digits(text, 17, 2);
    if (!h || !mi || !s || *h > 23 || *mi > 59 || *s > 60) return std::nullopt;
    out.hour = *h;
    out.minute = *mi;
    out.second = *s;
    size_t pos = 19;
    if (pos < text.size() && text[pos] == '.') {
        size_t start = ++pos;
        while (pos < text.size() && is_digit(text[pos])) ++pos;
        if (pos == start || pos - start > 9) return std::nullopt;
        out.fraction = std::string(text.substr(start, pos - start));
    }
    if (pos >= text.size()) return std::nullopt;
    if (text[pos] == 'Z' || text[pos] == 'z') {
        if (pos + 1 != text.size()) return std::nullopt;
        out.zulu = true;
        out.offset_minutes = 0;
        return out;
    }
    if ((text[pos] != '+' && text[pos] != '-') || pos + 6 != text.size() || text[pos + 3] != ':')
        return std::nullopt;
    auto oh = digits(text, pos + 1, 2);
    auto om = digits(text, pos + 4, 2);
    if (!oh || !om || *oh > 23 || *om > 59) return std::nullopt;
    out.zulu = false;
    out.offset_minutes = (*oh * 60 + *om) * (text[pos] == '-' ? -1 : 1);
    return out;
}

std::string format_datetime(const DateTime& value) {
    std::string out = format_date(value.date);
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "T%02d:%02d:%02d", value.hour, value.minute, value.second);
    out += buffer;
    if (!value.fraction.empty()) out += "." + value.fraction;
    if (value.zulu) return out + "Z";
    int offset = value.offset_minutes;
    char sign = offset < 0 ? '-' : '+';
    if (offset < 0) offset = -offset;
    std::snprintf(buffer, sizeof buffer, "%c%02d:%02d", sign, offset / 60, offset % 60);
    return out + buffer;
}

DateTime utc_datetime(std::chrono::system_clock::time_point time) {
    auto seconds = std::chrono::floor<std::chrono::seconds>(time);
    auto day = std::chrono::floor<std::chrono::days>(seconds);
    std::chrono::hh_mm_ss<std::chrono::seconds> hms{seconds - day};
    DateTime out;
    out.date = day;
    out.hour = static_cast<int>(hms.hours().count());
    out.minute = static_cast<int>(hms.minutes().count());
    out.second = static_cast<int>(hms.seconds().count());
    return out;
}

}  // namespace artistsaid::workflow::detail
