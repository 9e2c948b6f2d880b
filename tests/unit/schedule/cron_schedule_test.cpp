// CronSchedule: every syntax form, every error with its column, the Vixie day rule, and
// next fire times across month ends, leap years and impossible expressions (in UTC).
#include "engine/schedule/cron_schedule.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "tests/unit/schedule/schedule_test_support.hpp"

using namespace artistsaid;
using namespace artistsaid::schedule;
using artistsaid::schedule::testing::text;
using artistsaid::schedule::testing::utc;

namespace {

std::string describe(std::string_view expression) {
    return CronSchedule::parse(expression).describe();
}

struct Failure {
    int column = 0;
    std::string reason;
    std::string message;
};

Failure failure_of(std::string_view expression) {
    try {
        CronSchedule::parse(expression);
    } catch (const CronSyntaxError& e) {
        return {e.column(), e.reason(), e.what()};
    }
    return {};
}

// The next fire time after `from` in UTC, as text ("" for none).
std::string next(std::string_view expression, std::string_view from) {
    auto t = CronSchedule::parse(expression).next_after(utc(from), TimeZone::utc());
    return t ? text(*t) : "";
}

// The first `n` fire times after `from` in UTC.
std::vector<std::string> nexts(std::string_view expression, std::string_view from, int n) {
    const CronSchedule s = CronSchedule::parse(expression);
    std::vector<std::string> out;
    std::optional<std::chrono::sys_seconds> t = utc(from);
    for (int i = 0; i < n && (t = s.next_after(*t, TimeZone::utc())); ++i) out.push_back(text(*t));
    return out;
}

}  // namespace

TEST_CASE("CronSchedule.Parse.EverySyntaxForm") {
    CHECK(describe("* * * * *") == "* * * * *");
    CHECK(describe("0 2 * * *") == "0 2 * * *");
    CHECK(describe("5,10,15 * * * *") == "5,10,15 * * * *");
    CHECK(describe("1-5 * * * *") == "1-5 * * * *");
    CHECK(describe("*/15 * * * *") == "*/15 * * * *");
    CHECK(describe("1-30/5 * * * *") == "1-26/5 * * * *");
    CHECK(describe("0-59/15 * * * *") == "*/15 * * * *");
    CHECK(describe("5/15 * * * *") == "5-59/15 * * * *");  // cronie: start/step runs to the end
    CHECK(describe("0 0 1,15 * *") == "0 0 1,15 * *");
    CHECK(describe("0 9-17/2 * * *") == "0 9-17/2 * * *");
    CHECK(describe("0 */6 * * *") == "0 */6 * * *");
    CHECK(describe("0 0 * */3 *") == "0 0 * */3 *");
    CHECK(describe("0 0 * jan,Jul,DEC *") == "0 0 * 1,7,12 *");
    CHECK(describe("0 0 * FEB-apr *") == "0 0 * 2-4 *");
    CHECK(describe("0 0 * * MON-fri") == "0 0 * * 1-5");
    CHECK(describe("0 0 * * sun") == "0 0 * * 0");
    CHECK(describe("0 0 * * 7") == "0 0 * * 0");  // 7 is Sunday too
    CHECK(describe("0 0 * * 0,7") == "0 0 * * 0");
    CHECK(describe("0 0 * * 5-7") == "0 0 * * 0,5,6");
    CHECK(describe("0 0 * * sat,SUN") == "0 0 * * 0,6");
    CHECK(describe("0 0 * * */2") == "0 0 * * */2");
    CHECK(describe("0 0 * * 1-7/2") == "0 0 * * 0,1,3,5");
    CHECK(describe("00 07 01 01 *") == "0 7 1 1 *");     // leading zeros
    CHECK(describe("  0\t2  *  * *  ") == "0 2 * * *");  // any blanks between fields
    CHECK(describe("*/10,5 * * * *") == "0,5,10,20,30,40,50 * * * *");
    CHECK(describe("0 0 */10,5 * *") == "0 0 */10,5 * *");  // a day field keeps its '*'
    CHECK(describe("0 0 1-31/10 * *") == "0 0 1-31/10 * *");
    CHECK(describe("0 0 1-31/10,2 * *") == "0 0 1,2,11,21,31 * *");
    CHECK(describe("0 0 1-31 * *") == "0 0 1-31 * *");  // restricted, unlike "*"
    CHECK(describe("0 0 */1 * *") == "0 0 * * *");
    CHECK(describe("59 23 31 12 6") == "59 23 31 12 6");
    CHECK(describe("*/60 */24 */31 */12 */7") == "0 0 */31 1 */7");
    CHECK(describe("1,2 * * * *") == "1,2 * * * *");
    CHECK(describe("1,2,3,7,9,10,11 * * * *") == "1-3,7,9-11 * * * *");
    CHECK(CronSchedule::parse("0 2 * * *").expression() == "0 2 * * *");
}

TEST_CASE("CronSchedule.Parse.Macros") {
    CHECK(describe("@hourly") == "0 * * * *");
    CHECK(describe("@daily") == "0 0 * * *");
    CHECK(describe("@midnight") == "0 0 * * *");
    CHECK(describe("@weekly") == "0 0 * * 0");
    CHECK(describe("@monthly") == "0 0 1 * *");
    CHECK(describe("@yearly") == "0 0 1 1 *");
    CHECK(describe("@annually") == "0 0 1 1 *");
    CHECK(describe("  @Daily ") == "0 0 * * *");
    CHECK(CronSchedule::parse("@daily") == CronSchedule::parse("0 0 * * *"));
    CHECK(CronSchedule::parse("@daily").expression() == "@daily");
    CHECK_FALSE(CronSchedule::parse("@daily") == CronSchedule::parse("@hourly"));
}

TEST_CASE("CronSchedule.Parse.ErrorsNameTheirColumn") {
    struct Case {
        const char* expression;
        int column;
        const char* reason;
    };
    const Case cases[] = {
        {"", 1,
         "empty expression; expected 5 fields (minute hour day-of-month month "
         "day-of-week) or a macro such as @daily"},
        {"   ", 1,
         "empty expression; expected 5 fields (minute hour day-of-month month "
         "day-of-week) or a macro such as @daily"},
        {"61 * * * *", 1, "minute 61 out of range 0-59"},
        {"0,5,61 * * * *", 5, "minute 61 out of range 0-59"},
        {"0 24 * * *", 3, "hour 24 out of range 0-23"},
        {"0 0 0 * *", 5, "day-of-month 0 out of range 1-31"},
        {"0 0 32 * *", 5, "day-of-month 32 out of range 1-31"},
        {"0 0 * 13 *", 7, "month 13 out of range 1-12"},
        {"0 0 * 0 *", 7, "month 0 out of range 1-12"},
        {"0 0 * * 8", 9, "day-of-week 8 out of range 0-7"},
        {"99999999999999999999 * * * *", 1, "minute 99999999999999999999 out of range 0-59"},
        {"0 2 * *", 8,
         "missing day-of-week field (4 of 5 fields: minute hour day-of-month "
         "month day-of-week)"},
        {"0", 2,
         "missing hour field (1 of 5 fields: minute hour day-of-month month "
         "day-of-week)"},
        {"0 0 2 * * *", 11,
         "unexpected 6th field '*': a cron expression has 5 fields (minute hour day-of-month "
         "month day-of-week); seconds, years and commands are not supported"},
        {"0 0 * * * /usr/bin/backup", 11,
         "unexpected 6th field '/usr/bin/backup': a cron expression has 5 fields (minute "
         "hour day-of-month month day-of-week); seconds, years and commands are not "
         "supported"},
        {"30-10 * * * *", 1,
         "range 30-10 is backwards (wrap-around ranges are not supported; write two ranges "
         "as a list)"},
        {"0 0 * * fri-mon", 9,
         "range fri-mon is backwards (wrap-around ranges are not supported; write two "
         "ranges as a list)"},
        {"5- * * * *", 3,
         "expected a number 0-59 for the minute after '-', found the end "
         "of the field"},
        {"5-x * * * *", 3, "expected a number 0-59 for the minute after '-', found 'x'"},
        {"*/0 * * * *", 3, "step 0 out of range 1-60"},
        {"*/61 * * * *", 3, "step 61 out of range 1-60"},
        {"0 0 * * */8", 11, "step 8 out of range 1-7"},
        {"*/ * * * *", 3, "expected a step number after '/', found the end of the field"},
        {"*/x * * * *", 3, "expected a step number after '/', found 'x'"},
        {"1,,2 * * * *", 3, "empty item in the minute list"},
        {"1, * * * *", 3, "empty item in the minute list"},
        {",1 * * * *", 1, "empty item in the minute list"},
        {"0 0 ? * mon", 5, "'?' is not supported (Quartz syntax); use '*'"},
        {"0 0 L * *", 5, "expected a number 1-31 for the day-of-month, found 'L'"},
        {"0 noon * * *", 3, "expected a number 0-23 for the hour, found 'noon'"},
        {"0 0 * jen *", 7, "unknown month name 'jen' (expected jan-dec or 1-12)"},
        {"0 0 * january *", 7, "unknown month name 'january' (expected jan-dec or 1-12)"},
        {"0 0 * * thurs", 9, "unknown day-of-week name 'thurs' (expected sun-sat or 0-7)"},
        {"0 0 * * 1#2", 10,
         "unexpected '#' in the day-of-week field (expected ',' or a space after 1)"},
        {"*-5 * * * *", 2, "unexpected '-' in the minute field (expected ',' or a space after *)"},
        {"*/5/2 * * * *", 4,
         "unexpected '/' in the minute field (expected ',' or a space after */5)"},
        {"-5 * * * *", 1, "expected '*' or a number 0-59 for the minute, found '-'"},
        {"0 0 1W * *", 6,
         "unexpected 'W' in the day-of-month field (expected ',' or a space after 1)"},
        {"@reboot", 1,
         "@reboot is not supported: a schedule needs fire times; use a systemd "
         "unit instead"},
        {"@dayly", 1,
         "unknown macro '@dayly' (did you mean @daily?); expected @hourly, "
         "@daily, @midnight, @weekly, @monthly, @yearly or @annually"},
        {"@every 5m", 1,
         "unknown macro '@every'; expected @hourly, @daily, @midnight, "
         "@weekly, @monthly, @yearly or @annually"},
        {"@daily 0", 8, "unexpected text after @daily (a macro stands alone)"},
        {"0 0 * * * @daily", 11,
         "unexpected 6th field '@daily': a cron expression has 5 fields (minute hour "
         "day-of-month month day-of-week); seconds, years and commands are not supported"},
    };
    for (const Case& c : cases) {
        CAPTURE(std::string(c.expression));
        const Failure f = failure_of(c.expression);
        CHECK(f.column == c.column);
        CHECK(f.reason == c.reason);
        CHECK(f.message == "invalid cron expression '" + std::string(c.expression) + "': column " +
                               std::to_string(c.column) + ": " + c.reason);
    }
}

TEST_CASE("CronSchedule.Parse.ErrorIsAnInputError") {
    try {
        CronSchedule::parse("0 61 * * *");
        FAIL("no error");
    } catch (const InputError& e) {
        CHECK(e.code() == ErrorCode::kInvalidInput);
        CHECK(e.exit_code() == ExitCode::kBadInput);
        CHECK(std::string(e.what()) ==
              "invalid cron expression '0 61 * * *': column 3: hour 61 out of range 0-23");
        const auto* syntax = dynamic_cast<const CronSyntaxError*>(&e);
        REQUIRE(syntax != nullptr);
        CHECK(syntax->expression() == "0 61 * * *");
    }
}

TEST_CASE("CronSchedule.DayRule.EitherFieldWhenBothAreRestricted") {
    // 2026-11-13 is a Friday; 2026-11-06 a Friday; 2026-11-13/2026-12-13 the 13th.
    const CronSchedule either = CronSchedule::parse("0 0 13 * fri");
    CHECK(either.matches({2026, 11, 6, 0, 0, 0}));   // Friday, not the 13th
    CHECK(either.matches({2026, 12, 13, 0, 0, 0}));  // the 13th, a Sunday
    CHECK(either.matches({2026, 11, 13, 0, 0, 0}));  // both
    CHECK_FALSE(either.matches({2026, 11, 7, 0, 0, 0}));
    CHECK(nexts("0 0 13 * fri", "2026-11-01 00:00", 4) ==
          std::vector<std::string>{"2026-11-06 00:00:00", "2026-11-13 00:00:00",
                                   "2026-11-20 00:00:00", "2026-11-27 00:00:00"});
    CHECK(next("0 0 13 * fri", "2026-11-27 00:00") == "2026-12-04 00:00:00");
    CHECK(next("0 0 13 * fri", "2026-12-11 00:00") == "2026-12-13 00:00:00");

    // Day-of-week '*': only the day of month decides.
    CHECK(nexts("0 0 13 * *", "2026-11-01 00:00", 2) ==
          std::vector<std::string>{"2026-11-13 00:00:00", "2026-12-13 00:00:00"});
    // Day-of-month '*': only the weekday decides.
    CHECK(nexts("0 0 * * fri", "2026-11-01 00:00", 2) ==
          std::vector<std::string>{"2026-11-06 00:00:00", "2026-11-13 00:00:00"});

    // A field that starts with '*' counts as '*' for the rule even with a step (Vixie):
    // "*/2" days AND Friday — only odd-numbered Fridays.
    const CronSchedule both = CronSchedule::parse("0 0 */2 * fri");
    CHECK(both.matches({2026, 11, 13, 0, 0, 0}));
    CHECK_FALSE(both.matches({2026, 11, 6, 0, 0, 0}));   // a Friday, but the 6th
    CHECK_FALSE(both.matches({2026, 11, 15, 0, 0, 0}));  // odd, but a Sunday
    CHECK(nexts("0 0 */2 * fri", "2026-11-01 00:00", 3) ==
          std::vector<std::string>{"2026-11-13 00:00:00", "2026-11-27 00:00:00",
                                   "2026-12-11 00:00:00"});
    // Restricted without '*': odd days OR Fridays.
    CHECK(nexts("0 0 1-31/2 * fri", "2026-11-01 00:00", 3) ==
          std::vector<std::string>{"2026-11-03 00:00:00", "2026-11-05 00:00:00",
                                   "2026-11-06 00:00:00"});
    // Day-of-week "*/1" also starts with '*': AND, i.e. the day of month alone.
    CHECK(nexts("0 0 13 * */1", "2026-11-01 00:00", 2) ==
          std::vector<std::string>{"2026-11-13 00:00:00", "2026-12-13 00:00:00"});
    // Restricted to every day ("1-31"), the OR rule makes the weekday irrelevant.
    CHECK(next("0 0 1-31 * fri", "2026-11-01 00:00") == "2026-11-02 00:00:00");
    // describe() keeps the distinction.
    CHECK(describe("0 0 */2 * fri") == "0 0 */2 * 5");
    CHECK(describe("0 0 1-31/2 * fri") == "0 0 1-31/2 * 5");
    CHECK_FALSE(CronSchedule::parse("0 0 */2 * fri") == CronSchedule::parse("0 0 1-31/2 * fri"));
}

TEST_CASE("CronSchedule.NextAfter.IsStrictlyAfter") {
    CHECK(next("0 2 * * *", "2026-05-01 01:59:59") == "2026-05-01 02:00:00");
    CHECK(next("0 2 * * *", "2026-05-01 02:00:00") == "2026-05-02 02:00:00");
    CHECK(next("0 2 * * *", "2026-05-01 02:00:01") == "2026-05-02 02:00:00");
    CHECK(next("* * * * *", "2026-05-01 02:00:00") == "2026-05-01 02:01:00");
    CHECK(next("* * * * *", "2026-05-01 02:00:59") == "2026-05-01 02:01:00");
    CHECK(next("*/15 * * * *", "2026-05-01 23:50") == "2026-05-02 00:00:00");
    CHECK(nexts("*/20 9-10 * * *", "2026-05-01 08:00", 7) ==
          std::vector<std::string>{"2026-05-01 09:00:00", "2026-05-01 09:20:00",
                                   "2026-05-01 09:40:00", "2026-05-01 10:00:00",
                                   "2026-05-01 10:20:00", "2026-05-01 10:40:00",
                                   "2026-05-02 09:00:00"});
}

TEST_CASE("CronSchedule.NextAfter.MonthEndsAndLeapYears") {
    CHECK(nexts("0 0 31 * *", "2026-01-31 00:00", 4) ==
          std::vector<std::string>{"2026-03-31 00:00:00", "2026-05-31 00:00:00",
                                   "2026-07-31 00:00:00", "2026-08-31 00:00:00"});
    CHECK(next("0 0 30 * *", "2026-01-30 00:00") == "2026-03-30 00:00:00");
    CHECK(next("59 23 * * *", "2026-12-31 23:59") == "2027-01-01 23:59:00");
    CHECK(next("0 0 1 * *", "2026-12-15 00:00") == "2027-01-01 00:00:00");
    // 29 February: every four years, but not in 2100.
    CHECK(nexts("0 12 29 2 *", "2023-06-01 00:00", 3) ==
          std::vector<std::string>{"2024-02-29 12:00:00", "2028-02-29 12:00:00",
                                   "2032-02-29 12:00:00"});
    CHECK(next("0 12 29 2 *", "2096-03-01 00:00") == "2104-02-29 12:00:00");
    CHECK(next("0 0 28-31 2 *", "2100-02-28 00:00") == "2101-02-28 00:00:00");
    CHECK(next("0 0 * 2 *", "2024-02-28 23:59") == "2024-02-29 00:00:00");
    CHECK(next("0 0 1 3 *", "2024-02-29 00:00") == "2024-03-01 00:00:00");
    // Last day of February in a leap year, and 2000 (a leap year by the 400 rule).
    CHECK(next("0 0 29 2 *", "1999-01-01 00:00") == "2000-02-29 00:00:00");
}

TEST_CASE("CronSchedule.NextAfter.Macros") {
    CHECK(nexts("@yearly", "2026-05-01 00:00", 2) ==
          std::vector<std::string>{"2027-01-01 00:00:00", "2028-01-01 00:00:00"});
    CHECK(next("@annually", "2026-12-31 23:59:59") == "2027-01-01 00:00:00");
    CHECK(next("@monthly", "2026-02-15 00:00") == "2026-03-01 00:00:00");
    CHECK(next("@weekly", "2026-03-25 00:00") == "2026-03-29 00:00:00");  // Sunday
    CHECK(next("@daily", "2026-03-25 00:00") == "2026-03-26 00:00:00");
    CHECK(next("@midnight", "2026-03-25 23:00") == "2026-03-26 00:00:00");
    CHECK(next("@hourly", "2026-03-25 23:00") == "2026-03-26 00:00:00");
}

TEST_CASE("CronSchedule.NextAfter.ImpossibleAndRareExpressions") {
    for (const char* never : {"0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 31 2 *", "0 0 30,31 feb *",
                              "0 0 31 4 *", "0 0 30 2 */2"}) {
        CAPTURE(std::string(never));
        const CronSchedule s = CronSchedule::parse(never);
        CHECK_FALSE(s.can_fire());
        CHECK_FALSE(s.next_after(utc("2026-01-01 00:00"), TimeZone::utc()));
        CHECK(s.fire_times_between(utc("2026-01-01 00:00"), utc("2126-01-01 00:00"),
                                   TimeZone::utc(), 10)
                  .empty());
    }
    // Both day fields restricted: the weekday keeps it alive (the OR rule).
    CHECK(CronSchedule::parse("0 0 30 2 mon").can_fire());
    CHECK(next("0 0 30 2 mon", "2026-01-01 00:00") == "2026-02-02 00:00:00");
    // 31st of odd months, and every day of a month with a step on the day: possible.
    CHECK(CronSchedule::parse("0 0 31 */2 *").can_fire());
    CHECK(CronSchedule::parse("0 0 29 2 *").can_fire());

    // The rarest day there is: 29 February on a Sunday ("*/7" starts with '*', so the day
    // rule is AND). 2088 → 2128: 40 years, because 2100 is no leap year.
    const CronSchedule rare = CronSchedule::parse("0 0 29 2 */7");
    CHECK(rare.can_fire());
    CHECK(next("0 0 29 2 */7", "2060-03-01 00:00") == "2088-02-29 00:00:00");
    CHECK(next("0 0 29 2 */7", "2088-03-01 00:00") == "2128-02-29 00:00:00");
}

TEST_CASE("CronSchedule.NextAfter.RangeEnds") {
    const CronSchedule s = CronSchedule::parse("0 0 1 1 *");
    const TimeZone z = TimeZone::utc();
    CHECK(text(*s.next_after(utc("9998-06-01 00:00"), z)) == "9999-01-01 00:00:00");
    CHECK_FALSE(s.next_after(utc("9999-01-01 00:00"), z));
    CHECK_FALSE(s.next_after(TimeZone::kMaxInstant, z));
    CHECK_FALSE(s.next_after(TimeZone::kMaxInstant + std::chrono::hours{200}, z));
    CHECK_FALSE(s.next_after(TimeZone::kMinInstant - std::chrono::seconds{1}, z));
    CHECK(text(*s.next_after(TimeZone::kMinInstant, z)) == "0002-01-01 00:00:00");
}

TEST_CASE("CronSchedule.FireTimesBetween.BoundsAndCap") {
    const CronSchedule s = CronSchedule::parse("*/15 * * * *");
    const TimeZone z = TimeZone::utc();
    auto texts = [](const std::vector<std::chrono::sys_seconds>& v) {
        std::vector<std::string> out;
        for (auto t : v) out.push_back(text(t));
        return out;
    };
    // (after, until]: an instant equal to `after` is excluded, one equal to `until` included.
    CHECK(texts(s.fire_times_between(utc("2026-05-01 10:00"), utc("2026-05-01 11:00"), z, 100)) ==
          std::vector<std::string>{"2026-05-01 10:15:00", "2026-05-01 10:30:00",
                                   "2026-05-01 10:45:00", "2026-05-01 11:00:00"});
    CHECK(s.fire_times_between(utc("2026-05-01 10:00"), utc("2026-05-02 10:00"), z, 5).size() == 5);
    CHECK(s.fire_times_between(utc("2026-05-01 10:00"), utc("2026-05-01 10:00"), z, 5).empty());
    CHECK(s.fire_times_between(utc("2026-05-01 10:00"), utc("2026-05-01 09:00"), z, 5).empty());
    CHECK(s.fire_times_between(utc("2026-05-01 10:00"), utc("2026-05-01 11:00"), z, 0).empty());
}

TEST_CASE("CronSchedule.Describe.RoundTripsThroughParse") {
    for (const char* e : {"*/15 9-17 * * mon-fri", "0 0 */2 * fri", "5/15 1,2,3 1-31/2 jan-jun *",
                          "0 0 13 * fri", "*/10,5 */6,1 */3,2 */5,4 */2,1", "@weekly",
                          "1,2,3,7,9,10,11 0 1 1 0", "0-30/10 0 * * 1-7/3"}) {
        CAPTURE(std::string(e));
        const CronSchedule s = CronSchedule::parse(e);
        const CronSchedule again = CronSchedule::parse(s.describe());
        CHECK(again == s);
        CHECK(again.describe() == s.describe());
    }
}
