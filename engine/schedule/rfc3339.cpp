#include "engine/schedule/rfc3339.hpp"

#include <cstdio>

#include "engine/core/error.hpp"

namespace artistsaid::schedule {
namespace {

using std::chrono::sys_seconds;

[[noreturn]] void bad(std::string_view text, const std::string& why) {
    throw InputError("invalid time '" + std::string(text) + "': " + why +
                     " (expected RFC 3339, e.g. 2026-03-29T01:00:00Z or "
                     "2026-03-29T03:00:00+02:00)");
}

// Reads `width` digits at `pos`; -1 if they are not all digits.
int digits(std::string_view text, std::size_t pos, std::size_t width) {
    if (pos + width > text.size()) return -1;
    int value = 0;
    for (std::size_t i = pos; i < pos + width; ++i) {
        if (text[i] < '0' || text[i] > '9') return -1;
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

std::string offset_text(std::chrono::seconds offset) {
    // Offsets are within a day (TimeZone keeps them to ±25 hours).
    long long s = offset.count();
    char sign = s < 0 ? '-' : '+';
    if (s < 0) s = -s;
    int hours = static_cast<int>((s / 3600) % 100);
    int minutes = static_cast<int>((s / 60) % 60);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%c%02d:%02d", sign, hours, minutes);
    return buf;
}

std::string local_text(const LocalDateTime& l) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", l.year, l.month, l.day,
                  l.hour, l.minute, l.second);
    return buf;
}

}  // namespace

sys_seconds parse_rfc3339(std::string_view text) {
    // YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM|-HH:MM)
    LocalDateTime l;
    l.year = digits(text, 0, 4);
    l.month = digits(text, 5, 2);
    l.day = digits(text, 8, 2);
    l.hour = digits(text, 11, 2);
    l.minute = digits(text, 14, 2);
    l.second = digits(text, 17, 2);
    if (text.size() < 20 || l.year < 0 || text[4] != '-' || l.month < 0 || text[7] != '-' ||
        l.day < 0 || (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || l.hour < 0 ||
        text[13] != ':' || l.minute < 0 || text[16] != ':' || l.second < 0)
        bad(text, "not a date-time");
    if (l.second == 60) bad(text, "leap seconds are not supported");
    if (!l.is_valid()) bad(text, "no such date or time");
    std::size_t pos = 19;
    if (text[pos] == '.') {
        ++pos;
        std::size_t start = pos;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
        if (pos == start) bad(text, "digits expected after '.'");
    }
    if (pos >= text.size()) bad(text, "missing time zone offset ('Z' or +HH:MM)");
    std::chrono::seconds offset{0};
    if (text[pos] == 'Z' || text[pos] == 'z') {
        ++pos;
    } else if (text[pos] == '+' || text[pos] == '-') {
        int hours = digits(text, pos + 1, 2);
        int minutes = digits(text, pos + 4, 2);
        if (hours < 0 || minutes < 0 || pos + 3 >= text.size() || text[pos + 3] != ':' ||
            hours > 23 || minutes > 59)
            bad(text, "malformed time zone offset");
        offset = std::chrono::seconds((hours * 60 + minutes) * 60);
        if (text[pos] == '-') offset = -offset;
        pos += 6;
    } else {
        bad(text, "malformed time zone offset");
    }
    if (pos != text.size()) bad(text, "unexpected text after the offset");
    auto day = std::chrono::sys_days{std::chrono::year{l.year} /
                                     static_cast<unsigned>(l.month) /
                                     static_cast<unsigned>(l.day)};
    return sys_seconds{day} + std::chrono::hours(l.hour) + std::chrono::minutes(l.minute) +
           std::chrono::seconds(l.second) - offset;
}

std::string format_utc(sys_seconds t) {
    return local_text(TimeZone::utc().to_local(t)) + "Z";
}

std::string format_local(sys_seconds t, const TimeZone& zone) {
    return local_text(zone.to_local(t)) + offset_text(zone.offset_at(t));
}

}  // namespace artistsaid::schedule
