// The POSIX TZ string of a TZif footer (RFC 8536 section 3.3), e.g. "CET-1CEST,M3.5.0,M10.5.0/3"
// or "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0": the rule for every instant after the file's last
// transition. Includes the RFC's extensions (hours up to ±167 in rule times, negative times).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace artistsaid::schedule::detail {

/// One end of the daylight-saving period: a day of the year and a local time of day.
struct PosixTzDate {
    enum class Kind {
        kJulianNoLeap,  // "Jn": 1-365, 29 February is never counted
        kZeroBased,     // "n": 0-365, 29 February is counted
        kMonthWeekDay,  // "Mm.w.d": day d (0 = Sunday) of week w (5 = last) of month m
    };
    Kind kind = Kind::kMonthWeekDay;
    int day = 0;          // Jn / n: the day number; Mm.w.d: the weekday d
    int month = 0;        // Mm.w.d only
    int week = 0;         // Mm.w.d only, 1-5
    int32_t time = 7200;  // seconds after local midnight (default 02:00), may be negative

    /// Days since 1970-01-01 of this date in `year`.
    int64_t day_in(int64_t year) const;
};

/// A parsed POSIX TZ string. Offsets are seconds east of UTC (POSIX writes them west).
struct PosixTz {
    struct Dst {
        std::string abbreviation;
        int32_t offset = 0;
        PosixTzDate start;  // the change to daylight time, in standard local time
        PosixTzDate end;    // the change back, in daylight local time
    };
    std::string std_abbreviation;
    int32_t std_offset = 0;
    std::optional<Dst> dst;

    /// The offset in effect at `t` (seconds since the epoch) and whether it is daylight time.
    struct State {
        int32_t offset = 0;
        bool is_dst = false;
    };
    State state_at(int64_t t) const;

    /// Instants (UTC seconds) at which daylight time starts and ends in `year`.
    int64_t dst_start_in(int64_t year) const;
    int64_t dst_end_in(int64_t year) const;
};

/// Parses a TZ string as TZif footers carry it; nullopt if it is not one.
std::optional<PosixTz> parse_posix_tz(std::string_view text);

}  // namespace artistsaid::schedule::detail
