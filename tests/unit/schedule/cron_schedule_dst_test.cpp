// CronSchedule across daylight-saving changes: a wall-clock time that does not exist fires
// once at the first instant after the gap; one that happens twice fires once, the first time.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "engine/schedule/cron_schedule.hpp"
#include "tests/unit/schedule/schedule_test_support.hpp"

using namespace artistsaid::schedule;
using artistsaid::schedule::testing::text;
using artistsaid::schedule::testing::utc;

namespace {

// The first `n` fire times after `from` (UTC text) in `zone`, as UTC text.
std::vector<std::string> fires(std::string_view expression, std::string_view zone,
                               std::string_view from, int n) {
    const CronSchedule s = CronSchedule::parse(expression);
    const TimeZone z = TimeZone::load(zone);
    std::vector<std::string> out;
    std::optional<std::chrono::sys_seconds> t = utc(from);
    for (int i = 0; i < n && (t = s.next_after(*t, z)); ++i) out.push_back(text(*t));
    return out;
}

std::string first(std::string_view expression, std::string_view zone, std::string_view from) {
    auto v = fires(expression, zone, from, 1);
    return v.empty() ? "" : v[0];
}

using Texts = std::vector<std::string>;

}  // namespace

TEST_CASE("CronSchedule.Dst.Berlin.SpringForwardFiresAfterTheGap") {
    // 2026-03-29: 02:00 CET becomes 03:00 CEST at 01:00 UTC; 02:30 does not exist.
    CHECK(fires("30 2 * * *", "Europe/Berlin", "2026-03-27 12:00", 3) ==
          Texts{"2026-03-28 01:30:00",    // 02:30 CET
                "2026-03-29 01:00:00",    // 03:00 CEST, the first instant after the gap
                "2026-03-30 00:30:00"});  // 02:30 CEST
    CHECK(first("0 2 * * *", "Europe/Berlin", "2026-03-29 00:00") == "2026-03-29 01:00:00");
    // From just before the gap, and from the first instant after it (already fired).
    CHECK(first("30 2 * * *", "Europe/Berlin", "2026-03-29 00:59:59") == "2026-03-29 01:00:00");
    CHECK(first("30 2 * * *", "Europe/Berlin", "2026-03-29 01:00:00") == "2026-03-30 00:30:00");
    // Every 15 minutes: 02:00, 02:15, 02:30, 02:45 and 03:00 all fall on one instant — once.
    CHECK(fires("*/15 * * * *", "Europe/Berlin", "2026-03-29 00:30", 4) ==
          Texts{"2026-03-29 00:45:00", "2026-03-29 01:00:00", "2026-03-29 01:15:00",
                "2026-03-29 01:30:00"});
    // A time after the gap fires normally.
    CHECK(first("0 3 * * *", "Europe/Berlin", "2026-03-29 00:00") == "2026-03-29 01:00:00");
    CHECK(first("30 3 * * *", "Europe/Berlin", "2026-03-29 00:00") == "2026-03-29 01:30:00");
}

TEST_CASE("CronSchedule.Dst.Berlin.FallBackFiresOnce") {
    // 2026-10-25: 03:00 CEST becomes 02:00 CET at 01:00 UTC; 02:30 happens twice.
    CHECK(fires("30 2 * * *", "Europe/Berlin", "2026-10-24 12:00", 3) ==
          Texts{"2026-10-25 00:30:00",  // 02:30 CEST, the first occurrence
                "2026-10-26 01:30:00",  // the next day, 02:30 CET
                "2026-10-27 01:30:00"});
    // From between the two occurrences: the second one is not a new slot.
    CHECK(first("30 2 * * *", "Europe/Berlin", "2026-10-25 00:30:00") == "2026-10-26 01:30:00");
    CHECK(first("30 2 * * *", "Europe/Berlin", "2026-10-25 01:10:00") == "2026-10-26 01:30:00");
    CHECK(first("30 2 * * *", "Europe/Berlin", "2026-10-25 00:29:59") == "2026-10-25 00:30:00");
    // Hourly: 02:00 fires in CEST, not again in CET; 03:00 CET follows.
    CHECK(fires("0 * * * *", "Europe/Berlin", "2026-10-24 23:30", 4) ==
          Texts{"2026-10-25 00:00:00", "2026-10-25 02:00:00", "2026-10-25 03:00:00",
                "2026-10-25 04:00:00"});
    // From inside the repeated hour, every-minute schedules resume after it.
    CHECK(first("* * * * *", "Europe/Berlin", "2026-10-25 01:05:00") == "2026-10-25 02:00:00");
    CHECK(first("* * * * *", "Europe/Berlin", "2026-10-25 00:58:00") == "2026-10-25 00:59:00");
}

TEST_CASE("CronSchedule.Dst.NewYork") {
    // 2026-03-08 02:00 EST → 03:00 EDT (07:00 UTC); 2026-11-01 02:00 EDT → 01:00 EST.
    CHECK(first("30 2 * * *", "America/New_York", "2026-03-07 05:00") == "2026-03-07 07:30:00");
    CHECK(fires("30 2 * * *", "America/New_York", "2026-03-08 00:00", 2) ==
          Texts{"2026-03-08 07:00:00", "2026-03-09 06:30:00"});
    CHECK(fires("30 1 * * *", "America/New_York", "2026-10-31 12:00", 2) ==
          Texts{"2026-11-01 05:30:00", "2026-11-02 06:30:00"});
    CHECK(first("30 1 * * *", "America/New_York", "2026-11-01 06:00:00") == "2026-11-02 06:30:00");
    // Weekdays count on the wall clock: Monday 00:30 in New York is Monday 04:30/05:30 UTC.
    CHECK(fires("30 0 * * mon", "America/New_York", "2026-10-31 00:00", 2) ==
          Texts{"2026-11-02 05:30:00", "2026-11-09 05:30:00"});
    CHECK(first("30 0 * * mon", "America/New_York", "2026-10-01 00:00") == "2026-10-05 04:30:00");
}

TEST_CASE("CronSchedule.Dst.LordHoweHalfHour") {
    // 2026-10-04: 02:00 +1030 → 02:30 +11 (15:30 UTC the day before).
    CHECK(first("0 2 * * *", "Australia/Lord_Howe", "2026-10-03 12:00") == "2026-10-03 15:30:00");
    CHECK(first("15 2 * * *", "Australia/Lord_Howe", "2026-10-03 12:00") == "2026-10-03 15:30:00");
    CHECK(first("45 2 * * *", "Australia/Lord_Howe", "2026-10-03 12:00") == "2026-10-03 15:45:00");
    // 2026-04-05: 02:00 +11 → 01:30 +1030, so 01:45 happens twice, half an hour apart.
    CHECK(fires("45 1 * * *", "Australia/Lord_Howe", "2026-04-04 12:00", 2) ==
          Texts{"2026-04-04 14:45:00", "2026-04-05 15:15:00"});
    CHECK(first("45 1 * * *", "Australia/Lord_Howe", "2026-04-04 15:00") == "2026-04-05 15:15:00");
    CHECK(fires("*/30 * * * *", "Australia/Lord_Howe", "2026-04-04 14:00", 4) ==
          Texts{"2026-04-04 14:30:00",  // 01:30 +11
                "2026-04-04 15:30:00",  // 02:00 +1030 (01:30 and 01:45 repeat: skipped)
                "2026-04-04 16:00:00", "2026-04-04 16:30:00"});
}

TEST_CASE("CronSchedule.Dst.BeyondTheTransitionTable") {
    // Europe/Berlin in 2045 is computed from the footer rule, not listed transitions.
    CHECK(first("30 2 * * *", "Europe/Berlin", "2045-03-24 12:00") == "2045-03-25 01:30:00");
    CHECK(fires("30 2 * * *", "Europe/Berlin", "2045-03-25 12:00", 2) ==
          Texts{"2045-03-26 01:00:00", "2045-03-27 00:30:00"});
    CHECK(fires("30 2 * * *", "Europe/Berlin", "2045-10-28 12:00", 2) ==
          Texts{"2045-10-29 00:30:00", "2045-10-30 01:30:00"});
    CHECK(fires("0 2 * * *", "Australia/Lord_Howe", "2045-09-30 12:00", 1) ==
          Texts{"2045-09-30 15:30:00"});
    CHECK(first("@yearly", "Europe/Berlin", "2099-06-01 00:00") == "2099-12-31 23:00:00");
}

TEST_CASE("CronSchedule.Dst.UtcHasNoSurprises") {
    CHECK(fires("30 2 * * *", "UTC", "2026-03-28 12:00", 3) ==
          Texts{"2026-03-29 02:30:00", "2026-03-30 02:30:00", "2026-03-31 02:30:00"});
    CHECK(fires("30 2 * * *", "Etc/UTC", "2026-10-24 12:00", 2) ==
          Texts{"2026-10-25 02:30:00", "2026-10-26 02:30:00"});
}

TEST_CASE("CronSchedule.Dst.FixedOffsetZones") {
    CHECK(first("0 9 * * *", "Asia/Kolkata", "2026-05-01 00:00") == "2026-05-01 03:30:00");
    CHECK(first("0 9 * * *", "Asia/Kathmandu", "2026-05-01 00:00") == "2026-05-01 03:15:00");
    CHECK(first("0 0 1 1 *", "Pacific/Kiritimati", "2026-06-01 00:00") == "2026-12-31 10:00:00");
}
