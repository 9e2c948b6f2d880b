// Helpers for the schedule tests: UTC instants written as text, and the text of an instant.
#pragma once

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>

namespace artistsaid::schedule::testing {

/// "2026-03-29 01:00" or "2026-03-29 01:00:30" (UTC) → the instant. Built on std::chrono's
/// calendar, independently of the library's own date arithmetic.
inline std::chrono::sys_seconds utc(std::string_view text) {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    std::string buffer(text);
    int n = std::sscanf(buffer.c_str(), "%d-%d-%d %d:%d:%d", &y, &mo, &d, &h, &mi, &s);
    if (n < 5) throw std::invalid_argument("bad test instant: " + buffer);
    using namespace std::chrono;
    return sys_days{year{y} / mo / d} + hours{h} + minutes{mi} + seconds{s};
}

/// The instant as "2026-03-29 01:00:00" (UTC).
inline std::string text(std::chrono::sys_seconds t) {
    using namespace std::chrono;
    const sys_days day = floor<days>(t);
    const year_month_day ymd{day};
    const hh_mm_ss<seconds> hms{t - day};
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u %02d:%02d:%02d", int(ymd.year()),
                  unsigned(ymd.month()), unsigned(ymd.day()), int(hms.hours().count()),
                  int(hms.minutes().count()), int(hms.seconds().count()));
    return buffer;
}

}  // namespace artistsaid::schedule::testing
