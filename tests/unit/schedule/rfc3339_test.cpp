// RFC 3339 text for `--now` and the instants the tick prints.
#include "engine/schedule/rfc3339.hpp"

#include <doctest/doctest.h>

#include "engine/core/error.hpp"
#include "engine/schedule/schedule_ticker.hpp"

using namespace artistsaid;
using namespace artistsaid::schedule;
using std::chrono::sys_days;
using std::chrono::sys_seconds;

namespace {

sys_seconds at(int y, unsigned m, unsigned d, int h, int min, int s = 0) {
    return sys_seconds{sys_days{std::chrono::year{y} / m / d}} + std::chrono::hours(h) +
           std::chrono::minutes(min) + std::chrono::seconds(s);
}

}  // namespace

TEST_CASE("Rfc3339.Parse.OffsetsAndForms") {
    auto t = at(2026, 3, 29, 1, 0);
    CHECK(parse_rfc3339("2026-03-29T01:00:00Z") == t);
    CHECK(parse_rfc3339("2026-03-29t01:00:00z") == t);
    CHECK(parse_rfc3339("2026-03-29 01:00:00Z") == t);
    CHECK(parse_rfc3339("2026-03-29T03:00:00+02:00") == t);
    CHECK(parse_rfc3339("2026-03-28T20:00:00-05:00") == t);
    CHECK(parse_rfc3339("2026-03-29T01:00:00.999Z") == t);
    CHECK(parse_rfc3339("2026-03-29T05:30:20+05:30") == at(2026, 3, 29, 0, 0, 20));
    CHECK(parse_rfc3339("2024-02-29T00:00:00Z") == at(2024, 2, 29, 0, 0));
}

TEST_CASE("Rfc3339.Parse.RefusesWhatIsNotAnInstant") {
    for (const char* bad : {"", "now", "2026-03-29", "2026-03-29T01:00:00", "2026-03-29T01:00Z",
                            "2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z",
                            "2026-03-29T24:00:00Z", "2026-03-29T01:00:60Z",
                            "2026-03-29T01:00:00+2:00", "2026-03-29T01:00:00+02:00x",
                            "2026-03-29T01:00:00.Z", "2026-03-29T01:00:00+24:00"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(parse_rfc3339(bad), InputError);
    }
}

TEST_CASE("Rfc3339.Format.UtcAndZoneLocal") {
    CHECK(format_utc(at(2026, 3, 29, 1, 0)) == "2026-03-29T01:00:00Z");
    auto berlin = TimeZone::load("Europe/Berlin");
    CHECK(format_local(at(2026, 3, 29, 1, 0), berlin) == "2026-03-29T03:00:00+02:00");
    CHECK(format_local(at(2026, 3, 29, 0, 59), berlin) == "2026-03-29T01:59:00+01:00");
    CHECK(format_local(at(2026, 1, 1, 12, 0), TimeZone::load("America/St_Johns")) ==
          "2026-01-01T08:30:00-03:30");
    for (auto t : {at(2026, 10, 25, 0, 30), at(2026, 10, 25, 1, 30), at(1999, 12, 31, 23, 59)})
        CHECK(parse_rfc3339(format_local(t, berlin)) == t);
}

TEST_CASE("ScheduleTicker.DedupeKey.NamesWorkflowAndUtcSlot") {
    CHECK(ScheduleTicker::dedupe_key("billing-cycle", at(2026, 3, 29, 1, 0)) ==
          "schedule:billing-cycle:2026-03-29T01:00:00Z");
}
