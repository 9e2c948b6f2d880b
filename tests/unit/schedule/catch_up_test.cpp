// Catch-up: what none, latest and all fire after a late tick or an outage, the cap, the
// skipped count, first ticks without history, and clocks that disagree.
#include "engine/schedule/catch_up.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "engine/core/error.hpp"
#include "tests/unit/schedule/schedule_test_support.hpp"

using namespace artistsaid;
using namespace artistsaid::schedule;
using artistsaid::schedule::testing::text;
using artistsaid::schedule::testing::utc;
using std::chrono::seconds;
using std::chrono::sys_seconds;
using Texts = std::vector<std::string>;

namespace {

Texts texts(const std::vector<sys_seconds>& v) {
    Texts out;
    for (auto t : v) out.push_back(text(t));
    return out;
}

DueSlots due(std::string_view cron, std::optional<std::string_view> last, std::string_view now,
             CatchUpPolicy policy, CatchUpOptions options = {},
             const TimeZone& zone = TimeZone::utc()) {
    std::optional<sys_seconds> last_fired;
    if (last) last_fired = utc(*last);
    return due_slots(CronSchedule::parse(cron), zone, last_fired, utc(now), policy, options);
}

}  // namespace

TEST_CASE("CatchUp.Policy.Names") {
    CHECK(to_string(CatchUpPolicy::kNone) == "none");
    CHECK(to_string(CatchUpPolicy::kLatest) == "latest");
    CHECK(to_string(CatchUpPolicy::kAll) == "all");
    CHECK(kDefaultCatchUpCap == 100);
    CHECK(kDefaultOnTimeTolerance == seconds{60});
}

TEST_CASE("CatchUp.EveryPolicy.FiresTheOnTimeSlot") {
    for (auto policy : {CatchUpPolicy::kNone, CatchUpPolicy::kLatest, CatchUpPolicy::kAll}) {
        CAPTURE(to_string(policy));
        DueSlots d = due("0 * * * *", "2026-05-01 09:00", "2026-05-01 10:00:20", policy);
        CHECK(texts(d.fire) == Texts{"2026-05-01 10:00:00"});
        CHECK(d.skipped == 0);
        CHECK_FALSE(d.skipped_is_lower_bound);
        CHECK(text(*d.newest()) == "2026-05-01 10:00:00");
        // Between slots nothing is due.
        DueSlots idle = due("0 * * * *", "2026-05-01 10:00", "2026-05-01 10:30", policy);
        CHECK(idle.fire.empty());
        CHECK(idle.skipped == 0);
        CHECK_FALSE(idle.newest());
    }
}

TEST_CASE("CatchUp.None.SkipsWhatIsLate") {
    // A tick five minutes late: the 10:00 slot is missed, not fired late.
    DueSlots late = due("0 * * * *", "2026-05-01 09:00", "2026-05-01 10:05", CatchUpPolicy::kNone);
    CHECK(late.fire.empty());
    CHECK(late.skipped == 1);
    // Exactly at the tolerance still counts as on time; one second more does not.
    CHECK(due("0 * * * *", "2026-05-01 09:00", "2026-05-01 10:01:00", CatchUpPolicy::kNone)
              .fire.size() == 1);
    CHECK(due("0 * * * *", "2026-05-01 09:00", "2026-05-01 10:01:01", CatchUpPolicy::kNone)
              .fire.empty());
    // Two days down: 48 hourly slots skipped, the current one fires.
    DueSlots outage =
        due("0 * * * *", "2026-05-01 09:00", "2026-05-03 10:00:30", CatchUpPolicy::kNone);
    CHECK(texts(outage.fire) == Texts{"2026-05-03 10:00:00"});
    CHECK(outage.skipped == 48);
    // A wider tolerance for ticks that run every five minutes.
    CatchUpOptions five;
    five.on_time_tolerance = seconds{300};
    CHECK(texts(due("0 * * * *", "2026-05-01 09:00", "2026-05-01 10:04", CatchUpPolicy::kNone, five)
                    .fire) == Texts{"2026-05-01 10:00:00"});
    // Every minute, tolerance 60 s: the slot a minute ago and the current one are on time.
    CHECK(texts(due("* * * * *", "2026-05-01 09:58", "2026-05-01 10:00", CatchUpPolicy::kNone)
                    .fire) == Texts{"2026-05-01 09:59:00", "2026-05-01 10:00:00"});
}

TEST_CASE("CatchUp.Latest.FiresTheNewestMissedSlotOnce") {
    // Down from 1 May 02:00 until 4 May 14:00; daily at 02:00.
    DueSlots d = due("0 2 * * *", "2026-05-01 02:00", "2026-05-04 14:00", CatchUpPolicy::kLatest);
    CHECK(texts(d.fire) == Texts{"2026-05-04 02:00:00"});
    CHECK(d.skipped == 2);
    // The same outage under `none`: today's 02:00 is twelve hours late, so nothing fires.
    DueSlots none = due("0 2 * * *", "2026-05-01 02:00", "2026-05-04 14:00", CatchUpPolicy::kNone);
    CHECK(none.fire.empty());
    CHECK(none.skipped == 3);
    // docs/schedules.md's example: hourly, two days down, tick at 10:00:30.
    DueSlots hourly =
        due("0 * * * *", "2026-05-01 09:00", "2026-05-03 10:00:30", CatchUpPolicy::kLatest);
    CHECK(texts(hourly.fire) == Texts{"2026-05-03 10:00:00"});
    CHECK(hourly.skipped == 48);
    // The next tick: nothing more.
    DueSlots after =
        due("0 2 * * *", "2026-05-04 02:00", "2026-05-04 14:01", CatchUpPolicy::kLatest);
    CHECK(after.fire.empty());
    CHECK(after.skipped == 0);
    // Years of downtime cost no more than a look back over a few windows.
    DueSlots long_gap =
        due("*/5 * * * *", "2020-01-01 00:00", "2026-05-04 14:02", CatchUpPolicy::kLatest);
    CHECK(texts(long_gap.fire) == Texts{"2026-05-04 14:00:00"});
    CHECK(long_gap.skipped == kSkippedCountLimit);
    CHECK(long_gap.skipped_is_lower_bound);
    // A rare slot far back is still found.
    DueSlots rare =
        due("0 0 29 2 *", "2020-02-29 00:00", "2026-05-04 14:00", CatchUpPolicy::kLatest);
    CHECK(texts(rare.fire) == Texts{"2024-02-29 00:00:00"});
    CHECK(rare.skipped == 0);
}

TEST_CASE("CatchUp.All.FiresEveryMissedSlotOldestFirst") {
    DueSlots d = due("0 * * * *", "2026-05-01 09:00", "2026-05-03 10:00:30", CatchUpPolicy::kAll);
    REQUIRE(d.fire.size() == 49);
    CHECK(text(d.fire.front()) == "2026-05-01 10:00:00");
    CHECK(text(d.fire.back()) == "2026-05-03 10:00:00");
    CHECK(std::is_sorted(d.fire.begin(), d.fire.end()));
    CHECK(d.skipped == 0);
}

TEST_CASE("CatchUp.All.KeepsTheNewestCapSlots") {
    // Ten days of hourly slots (240) with the default cap of 100: the newest 100 fire, so the
    // current slot is among them and nothing is left over for the next tick.
    DueSlots d = due("0 * * * *", "2026-05-01 09:00", "2026-05-11 09:00", CatchUpPolicy::kAll);
    REQUIRE(d.fire.size() == kDefaultCatchUpCap);
    CHECK(text(d.fire.front()) == "2026-05-07 06:00:00");
    CHECK(text(d.fire.back()) == "2026-05-11 09:00:00");
    CHECK(d.skipped == 140);
    CHECK_FALSE(d.skipped_is_lower_bound);
    DueSlots next = due("0 * * * *", text(*d.newest()), "2026-05-11 09:30", CatchUpPolicy::kAll);
    CHECK(next.fire.empty());

    CatchUpOptions small;
    small.cap = 3;
    CHECK(texts(due("0 * * * *", "2026-05-01 09:00", "2026-05-01 20:00:10", CatchUpPolicy::kAll,
                    small)
                    .fire) ==
          Texts{"2026-05-01 18:00:00", "2026-05-01 19:00:00", "2026-05-01 20:00:00"});

    // Every minute for a year: bounded work, a lower bound on what was skipped.
    DueSlots year = due("* * * * *", "2025-05-01 00:00", "2026-05-01 00:00", CatchUpPolicy::kAll);
    CHECK(year.fire.size() == 100);
    CHECK(text(year.fire.back()) == "2026-05-01 00:00:00");
    CHECK(year.skipped == kSkippedCountLimit);
    CHECK(year.skipped_is_lower_bound);
}

TEST_CASE("CatchUp.WithoutHistory.NothingIsCaughtUp") {
    // A schedule that never fired: only a slot within the tolerance is due, for any policy.
    for (auto policy : {CatchUpPolicy::kNone, CatchUpPolicy::kLatest, CatchUpPolicy::kAll}) {
        CAPTURE(to_string(policy));
        CHECK(texts(due("0 2 * * *", std::nullopt, "2026-05-04 02:00:30", policy).fire) ==
              Texts{"2026-05-04 02:00:00"});
        DueSlots later = due("0 2 * * *", std::nullopt, "2026-05-04 14:00", policy);
        CHECK(later.fire.empty());
        CHECK(later.skipped == 0);
    }
}

TEST_CASE("CatchUp.ClockSkew.LastAfterNowMakesNothingDue") {
    for (auto policy : {CatchUpPolicy::kNone, CatchUpPolicy::kLatest, CatchUpPolicy::kAll}) {
        DueSlots d = due("* * * * *", "2026-05-01 10:05", "2026-05-01 10:00:10", policy);
        CHECK(d.fire.empty());
        CHECK(d.skipped == 0);
    }
}

TEST_CASE("CatchUp.Options.AreChecked") {
    CatchUpOptions zero;
    zero.cap = 0;
    CHECK_THROWS_AS(due("* * * * *", std::nullopt, "2026-05-01 10:00", CatchUpPolicy::kAll, zero),
                    InputError);
    CatchUpOptions negative;
    negative.on_time_tolerance = seconds{-1};
    CHECK_THROWS_AS(
        due("* * * * *", std::nullopt, "2026-05-01 10:00", CatchUpPolicy::kNone, negative),
        InputError);
}

TEST_CASE("CatchUp.Dst.SlotsAreInstants") {
    const TimeZone berlin = TimeZone::load("Europe/Berlin");
    // Hourly across the night Berlin falls back: 02:00 local fires once (in CEST).
    DueSlots fall = due("0 * * * *", "2026-10-24 22:00", "2026-10-25 04:00:05", CatchUpPolicy::kAll,
                        {}, berlin);
    CHECK(texts(fall.fire) == Texts{"2026-10-24 23:00:00", "2026-10-25 00:00:00",
                                    "2026-10-25 02:00:00", "2026-10-25 03:00:00",
                                    "2026-10-25 04:00:00"});
    // 02:30 on the night Berlin springs forward is due at 03:00 CEST.
    DueSlots spring = due("30 2 * * *", "2026-03-28 01:30", "2026-03-29 01:00:30",
                          CatchUpPolicy::kNone, {}, berlin);
    CHECK(texts(spring.fire) == Texts{"2026-03-29 01:00:00"});
}

TEST_CASE("CatchUp.All.AgreesWithFireTimesBetween") {
    // For random schedules and gaps, `all` is the newest `cap` of the full list.
    std::mt19937_64 rng(7);
    const char* crons[] = {"*/7 * * * *",     "0 */3 * * *", "15 2 * * mon-fri", "0 0 1,15 * *",
                           "*/30 9-17 * * *", "0 0 29 2 *",  "@weekly",          "5 4 * * sun"};
    std::uniform_int_distribution<int64_t> start(
        utc("2020-01-01 00:00").time_since_epoch().count(),
        utc("2030-01-01 00:00").time_since_epoch().count());
    std::uniform_int_distribution<int64_t> gap(0, 60 * 86400);
    for (int i = 0; i < 200; ++i) {
        const CronSchedule s = CronSchedule::parse(crons[i % 8]);
        const sys_seconds last{seconds{start(rng)}};
        const sys_seconds now = last + seconds{gap(rng)};
        CatchUpOptions o;
        o.cap = 1 + i % 40;
        CAPTURE(std::string(crons[i % 8]));
        CAPTURE(text(last));
        CAPTURE(text(now));
        const auto full = s.fire_times_between(last, now, TimeZone::utc(), 1'000'000);
        const DueSlots d = due_slots(s, TimeZone::utc(), last, now, CatchUpPolicy::kAll, o);
        const size_t keep = std::min(full.size(), o.cap);
        CHECK(d.fire == std::vector<sys_seconds>(full.end() - keep, full.end()));
        CHECK(d.skipped == std::min(full.size() - keep, kSkippedCountLimit));
        CHECK(d.skipped_is_lower_bound == (full.size() - keep > kSkippedCountLimit));
        const DueSlots l = due_slots(s, TimeZone::utc(), last, now, CatchUpPolicy::kLatest, o);
        CHECK(l.fire.size() == (full.empty() ? 0 : 1));
        if (!full.empty()) CHECK(l.fire.back() == full.back());
    }
}
