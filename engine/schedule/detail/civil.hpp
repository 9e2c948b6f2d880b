// Proleptic Gregorian calendar arithmetic on 64-bit day and second counts (days since
// 1970-01-01). Howard Hinnant's algorithms: exact integer arithmetic with no range limits
// that matter here and no undefined behaviour for any year that fits in an int64_t / 400.
// std::chrono's calendar types would do, but their `year` stops at ±32767 and the TZif and
// POSIX code below must stay well-defined for every 64-bit instant a file may contain.
#pragma once

#include <cstdint>

namespace artistsaid::schedule::detail {

constexpr int64_t kSecondsPerDay = 86'400;

/// Division rounding towards negative infinity (b > 0).
constexpr int64_t floor_div(int64_t a, int64_t b) {
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

/// a - b * floor_div(a, b): always in [0, b) for b > 0.
constexpr int64_t floor_mod(int64_t a, int64_t b) { return a - b * floor_div(a, b); }

constexpr bool is_leap_year(int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

/// Days in month `m` (1-12) of year `y`.
constexpr int days_in_month(int64_t y, int m) {
    constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap_year(y) ? 29 : kDays[m - 1];
}

/// Days since 1970-01-01 of y-m-d (m 1-12, d 1-31).
constexpr int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2 ? 1 : 0;
    const int64_t era = floor_div(y, 400);
    const int64_t yoe = y - era * 400;                                    // [0, 399]
    const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;  // [0, 365]
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            // [0, 146096]
    return era * 146'097 + doe - 719'468;
}

struct CivilDate {
    int64_t year = 1970;
    int month = 1;  // 1-12
    int day = 1;    // 1-31
};

/// The date `z` days after 1970-01-01.
constexpr CivilDate civil_from_days(int64_t z) {
    z += 719'468;
    const int64_t era = floor_div(z, 146'097);
    const int64_t doe = z - era * 146'097;                                        // [0, 146096]
    const int64_t yoe = (doe - doe / 1460 + doe / 36'524 - doe / 146'096) / 365;  // [0, 399]
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                  // [0, 365]
    const int64_t mp = (5 * doy + 2) / 153;                                       // [0, 11]
    const int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
    const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    return {yoe + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

/// Day of the week of day `z` since 1970-01-01 (a Thursday): 0 = Sunday … 6 = Saturday.
constexpr int weekday_from_days(int64_t z) { return static_cast<int>(floor_mod(z + 4, 7)); }

}  // namespace artistsaid::schedule::detail
