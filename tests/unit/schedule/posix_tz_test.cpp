// The POSIX TZ strings of TZif footers: every date form, offsets, quoted names, bad strings.
#include "engine/schedule/detail/posix_tz.hpp"

#include <doctest/doctest.h>

#include "engine/schedule/detail/civil.hpp"
#include "tests/unit/schedule/schedule_test_support.hpp"

using namespace artistsaid::schedule::detail;
using artistsaid::schedule::testing::text;

namespace {

std::string instant(int64_t t) { return text(std::chrono::sys_seconds{std::chrono::seconds{t}}); }

int64_t date(int64_t y, int m, int d) { return days_from_civil(y, m, d); }

}  // namespace

TEST_CASE("PosixTz.Parse.StandardTimeOnly") {
    auto tz = parse_posix_tz("JST-9");
    REQUIRE(tz);
    CHECK(tz->std_abbreviation == "JST");
    CHECK(tz->std_offset == 9 * 3600);
    CHECK_FALSE(tz->dst);
    CHECK(tz->state_at(0).offset == 9 * 3600);

    auto quoted = parse_posix_tz("<-03>3");
    REQUIRE(quoted);
    CHECK(quoted->std_abbreviation == "-03");
    CHECK(quoted->std_offset == -3 * 3600);

    auto minutes = parse_posix_tz("<+0545>-5:45");
    REQUIRE(minutes);
    CHECK(minutes->std_offset == 5 * 3600 + 45 * 60);
    CHECK(parse_posix_tz("XXX+1:02:03")->std_offset == -(3600 + 120 + 3));
}

TEST_CASE("PosixTz.Parse.DaylightRules") {
    auto berlin = parse_posix_tz("CET-1CEST,M3.5.0,M10.5.0/3");
    REQUIRE(berlin);
    REQUIRE(berlin->dst);
    CHECK(berlin->dst->abbreviation == "CEST");
    CHECK(berlin->dst->offset == 7200);  // default: one hour more than standard time
    CHECK(berlin->dst->start.kind == PosixTzDate::Kind::kMonthWeekDay);
    CHECK(berlin->dst->start.month == 3);
    CHECK(berlin->dst->start.week == 5);
    CHECK(berlin->dst->start.day == 0);
    CHECK(berlin->dst->start.time == 7200);  // default 02:00
    CHECK(berlin->dst->end.time == 3 * 3600);
    CHECK(instant(berlin->dst_start_in(2026)) == "2026-03-29 01:00:00");
    CHECK(instant(berlin->dst_end_in(2026)) == "2026-10-25 01:00:00");
    CHECK(instant(berlin->dst_start_in(2045)) == "2045-03-26 01:00:00");

    auto lord_howe = parse_posix_tz("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0");
    REQUIRE(lord_howe);
    CHECK(lord_howe->std_abbreviation == "+1030");
    CHECK(lord_howe->dst->abbreviation == "+11");
    CHECK(lord_howe->dst->offset == 11 * 3600);
    CHECK(instant(lord_howe->dst_start_in(2026)) == "2026-10-03 15:30:00");
    CHECK(instant(lord_howe->dst_end_in(2026)) == "2026-04-04 15:00:00");
    // Southern hemisphere: daylight time spans the new year.
    CHECK(lord_howe->state_at(lord_howe->dst_start_in(2026) - 1).is_dst == false);
    CHECK(lord_howe->state_at(lord_howe->dst_start_in(2026)).is_dst);
    CHECK(lord_howe->state_at(date(2027, 1, 1) * 86400).is_dst);
    CHECK(lord_howe->state_at(lord_howe->dst_end_in(2027)).is_dst == false);

    // Negative daylight saving (Ireland): "summer" is standard time, winter is GMT.
    auto dublin = parse_posix_tz("IST-1GMT0,M10.5.0,M3.5.0/1");
    REQUIRE(dublin);
    CHECK(dublin->std_offset == 3600);
    CHECK(dublin->dst->offset == 0);
    CHECK(dublin->state_at(date(2026, 1, 15) * 86400).offset == 0);
    CHECK(dublin->state_at(date(2026, 7, 15) * 86400).offset == 3600);
}

TEST_CASE("PosixTz.Dates.JulianZeroBasedAndWeekForms") {
    PosixTzDate j{PosixTzDate::Kind::kJulianNoLeap, 60, 0, 0, 0};
    CHECK(j.day_in(2026) == date(2026, 3, 1));  // J60 is 1 March in every year
    CHECK(j.day_in(2024) == date(2024, 3, 1));
    j.day = 59;
    CHECK(j.day_in(2024) == date(2024, 2, 28));
    j.day = 365;
    CHECK(j.day_in(2024) == date(2024, 12, 31));
    PosixTzDate n{PosixTzDate::Kind::kZeroBased, 59, 0, 0, 0};
    CHECK(n.day_in(2024) == date(2024, 2, 29));  // 29 February counts
    CHECK(n.day_in(2026) == date(2026, 3, 1));
    n.day = 0;
    CHECK(n.day_in(2026) == date(2026, 1, 1));
    PosixTzDate m{PosixTzDate::Kind::kMonthWeekDay, 0, 3, 2, 0};  // second Sunday of March
    CHECK(m.day_in(2026) == date(2026, 3, 8));
    m.week = 1;
    m.month = 11;
    CHECK(m.day_in(2026) == date(2026, 11, 1));
    m.week = 5;
    m.month = 2;
    m.day = 4;  // last Thursday of February
    CHECK(m.day_in(2024) == date(2024, 2, 29));
    CHECK(m.day_in(2026) == date(2026, 2, 26));

    auto tz = parse_posix_tz("AAA3BBB,J60/-1,300/26:30");
    REQUIRE(tz);
    CHECK(tz->dst->start.kind == PosixTzDate::Kind::kJulianNoLeap);
    CHECK(tz->dst->start.time == -3600);
    CHECK(tz->dst->end.kind == PosixTzDate::Kind::kZeroBased);
    CHECK(tz->dst->end.day == 300);
    CHECK(tz->dst->end.time == 26 * 3600 + 1800);
    CHECK(parse_posix_tz("AAA3BBB,M3.2.0/167,M11.1.0/-167"));  // RFC 8536 extension
}

TEST_CASE("PosixTz.Parse.RefusesWhatIsNotATzString") {
    for (const char* bad :
         {"", "CET", "C-1", "CET-", "CET-1CEST", "CET-1CEST,M3.5.0", "CET-1CEST,M3.5.0,",
          "CET-1CEST,M13.5.0,M10.5.0", "CET-1CEST,M3.6.0,M10.5.0", "CET-1CEST,M3.5.7,M10.5.0",
          "CET-1CEST,J0,J365", "CET-1CEST,366,J365", "CET-25", "<+1>1", "<+0330", "CET-1:60",
          "CET-1CEST,M3.5.0/168,M10.5.0", "CET-1 ", ":Europe/Berlin"}) {
        CAPTURE(std::string(bad));
        CHECK_FALSE(parse_posix_tz(bad));
    }
}

TEST_CASE("Civil.DaysAndDatesRoundTrip") {
    CHECK(days_from_civil(1970, 1, 1) == 0);
    CHECK(days_from_civil(2000, 3, 1) == 11'017);
    CHECK(days_from_civil(1, 1, 1) == -719'162);
    for (int64_t z = -800'000; z < 3'000'000; z += 17) {
        const CivilDate d = civil_from_days(z);
        REQUIRE(days_from_civil(d.year, d.month, d.day) == z);
    }
    CHECK(weekday_from_days(0) == 4);
    CHECK(weekday_from_days(-1) == 3);
    CHECK(floor_div(-7, 2) == -4);
    CHECK(floor_mod(-7, 7) == 0);
    CHECK(floor_mod(-1, 7) == 6);
    CHECK(days_in_month(2100, 2) == 28);
    CHECK(days_in_month(2000, 2) == 29);
}
