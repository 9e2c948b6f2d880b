// Dates and RFC 3339 date-times as the expression language and input types use them.
// libstdc++ 12 has the C++20 calendar types but no time zones and no std::format, so the
// text forms are read and written here. Everything is UTC or a fixed offset.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace artistsaid::workflow::detail {

/// "YYYY-MM-DD", a real calendar date (2024-02-30 is refused); years 0001-9999.
std::optional<std::chrono::sys_days> parse_date(std::string_view text);
std::string format_date(std::chrono::sys_days day);

/// An RFC 3339 date-time: "YYYY-MM-DD" "T" "HH:MM:SS" ["." digits] ("Z" | ±HH:MM).
/// Kept as written (fraction and offset included) so add_days can preserve them.
struct DateTime {
    std::chrono::sys_days date;  // the local date at `offset_minutes`
    int hour = 0;
    int minute = 0;
    int second = 0;
    std::string fraction;    // the digits after '.', possibly empty
    int offset_minutes = 0;  // east of UTC
    bool zulu = true;        // written as "Z" rather than "+00:00"
};

std::optional<DateTime> parse_datetime(std::string_view text);
std::string format_datetime(const DateTime& value);

/// The UTC date-time of `time`, to the second ("2024-05-01T09:30:00Z").
DateTime utc_datetime(std::chrono::system_clock::time_point time);

}  // namespace artistsaid::workflow::detail
