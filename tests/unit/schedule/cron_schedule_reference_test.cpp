// CronSchedule against brute force: random expressions, generated together with the sets of
// values they stand for (so the parser is checked too), and a reference that walks minute by
// minute — on the UTC calendar of std::chrono, and on a zone's wall clock via to_local().
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>

#include "engine/schedule/cron_schedule.hpp"
#include "tests/unit/schedule/schedule_test_support.hpp"

using namespace artistsaid::schedule;
using namespace std::chrono;
using artistsaid::schedule::testing::text;
using artistsaid::schedule::testing::utc;

namespace {

using sys_minutes = time_point<system_clock, minutes>;

const char* const kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                               "jul", "aug", "sep", "oct", "nov", "dec"};
const char* const kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

struct Spec {
    int min;
    int max;
    int span;
    const char* const* names;
};
const Spec kSpecs[5] = {{0, 59, 60, nullptr},
                        {0, 23, 24, nullptr},
                        {1, 31, 31, nullptr},
                        {1, 12, 12, kMonths},
                        {0, 7, 7, kDays}};

// An expression and what it means, built side by side.
struct Reference {
    std::string text;
    uint64_t bits[5] = {};
    bool dom_star = false;
    bool dow_star = false;

    bool has(int field, int value) const { return ((bits[field] >> value) & 1) != 0; }

    bool matches(year_month_day ymd, int hour, int minute) const {
        const bool dom = has(2, static_cast<int>(unsigned(ymd.day())));
        const bool dow = has(4, static_cast<int>(weekday(sys_days(ymd)).c_encoding()));
        const bool day = (dom_star || dow_star) ? (dom && dow) : (dom || dow);
        return day && has(0, minute) && has(1, hour) &&
               has(3, static_cast<int>(unsigned(ymd.month())));
    }
};

class Generator {
public:
    explicit Generator(uint64_t seed) : rng_(seed) {}

    int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
    bool chance(int percent) { return uniform(1, 100) <= percent; }

    // `star_percent`: how often the field is a bare '*'. `hours_near_dst`: favour 1-3 h.
    Reference expression(int star_percent, bool hours_near_dst) {
        Reference r;
        for (int f = 0; f < 5; ++f) {
            std::string text;
            if (f == 1 && hours_near_dst && chance(50)) {
                const char* near[] = {"2", "1-3", "*/2", "2,3", "0-2", "1,2"};
                text = near[uniform(0, 5)];
                r.bits[1] = bits_of_hours(text);
            } else {
                text = field(kSpecs[f], r.bits[f], star_percent);
            }
            if (f == 2) r.dom_star = text.front() == '*';
            if (f == 4) {
                r.dow_star = text.front() == '*';
                if (r.has(4, 7)) r.bits[4] |= 1;  // 7 is Sunday
                r.bits[4] &= 0x7f;
            }
            r.text += (f == 0 ? "" : " ") + text;
        }
        return r;
    }

    std::mt19937_64& rng() { return rng_; }

private:
    static uint64_t bits_of_hours(const std::string& t) {
        if (t == "2") return 1u << 2;
        if (t == "1-3") return 0b1110;
        if (t == "*/2") {
            uint64_t b = 0;
            for (int h = 0; h < 24; h += 2) b |= uint64_t{1} << h;
            return b;
        }
        if (t == "2,3") return 0b1100;
        if (t == "0-2") return 0b111;
        return 0b110;  // "1,2"
    }

    std::string value_text(const Spec& s, int v) {
        if (s.names != nullptr && v - s.min < (s.max == 7 ? 7 : 12) && chance(40)) {
            std::string name = s.names[v - s.min];
            const int style = uniform(0, 2);  // mon, Mon, MON
            for (size_t i = 0; i < name.size(); ++i)
                if ((style == 1 && i == 0) || style == 2)
                    name[i] = static_cast<char>(name[i] - 'a' + 'A');
            return name;
        }
        return std::to_string(v);
    }

    std::string field(const Spec& s, uint64_t& bits, int star_percent) {
        auto add = [&](int lo, int hi, int step) {
            for (int v = lo; v <= hi; v += step) bits |= uint64_t{1} << v;
        };
        if (chance(star_percent)) {
            add(s.min, s.max, 1);
            return "*";
        }
        std::string out;
        if (chance(20)) {
            const int step = uniform(1, s.span);
            add(s.min, s.max, step);
            out = "*/" + std::to_string(step);
            if (!chance(70)) return out;
        }
        for (int items = uniform(1, 3); items > 0; --items) {
            if (!out.empty()) out += ",";
            const int a = uniform(s.min, s.max);
            const int b = uniform(a, s.max);
            const int step = uniform(1, s.span);
            switch (uniform(0, 3)) {
                case 0:
                    add(a, a, 1);
                    out += value_text(s, a);
                    break;
                case 1:
                    add(a, b, 1);
                    out += value_text(s, a) + "-" + value_text(s, b);
                    break;
                case 2:
                    add(a, b, step);
                    out += value_text(s, a) + "-" + value_text(s, b) + "/" + std::to_string(step);
                    break;
                default:
                    add(a, s.max, step);
                    out += value_text(s, a) + "/" + std::to_string(step);
                    break;
            }
        }
        return out;
    }

    std::mt19937_64 rng_;
};

// The first whole UTC minute after `t` that matches, looking at most `limit` minutes ahead.
std::optional<sys_seconds> reference_next_utc(const Reference& r, sys_seconds t, int limit) {
    sys_minutes u = floor<minutes>(t) + minutes{1};
    sys_days day{};
    year_month_day ymd{};
    for (int i = 0; i < limit; ++i, u += minutes{1}) {
        if (floor<days>(u) != day || i == 0) {
            day = floor<days>(u);
            ymd = year_month_day(day);
        }
        const auto minute_of_day = (u - day).count();
        if (r.matches(ymd, static_cast<int>(minute_of_day / 60),
                      static_cast<int>(minute_of_day % 60)))
            return u;
    }
    return std::nullopt;
}

int64_t local_minute(const LocalDateTime& l) {
    const sys_days d{year{l.year} / l.month / l.day};
    return d.time_since_epoch().count() * 1440 + l.hour * 60 + l.minute;
}

// On the wall clock of `zone`, minute by minute in UTC: an instant fires when the clock
// reaches a matching wall-clock minute it has never shown before (since a day before `t`).
// That is the rule CronSchedule promises, stated the other way round: a skipped minute
// fires when the clock jumps over it, a repeated minute only the first time.
// How often the DST rules decided a case: a fire for a skipped minute, a repeated one ignored.
struct DstStats {
    int gap_fires = 0;
    int repeats_ignored = 0;
};

bool matches_local_minute(const Reference& r, int64_t m) {
    const sys_days d{days{m >= 0 ? m / 1440 : (m - 1439) / 1440}};
    const int64_t of_day = m - d.time_since_epoch().count() * 1440;
    return r.matches(year_month_day(d), static_cast<int>(of_day / 60),
                     static_cast<int>(of_day % 60));
}

std::optional<sys_seconds> reference_next_zone(const Reference& r, const TimeZone& zone,
                                               sys_seconds t, int limit, DstStats& stats) {
    sys_minutes u = floor<minutes>(t) - minutes{1440};
    int64_t seen = local_minute(zone.to_local(u));
    for (int i = 0; i < limit + 1440; ++i) {
        u += minutes{1};
        const int64_t now = local_minute(zone.to_local(u));
        if (u > t && now <= seen && matches_local_minute(r, now)) ++stats.repeats_ignored;
        for (int64_t m = seen + 1; m <= now; ++m) {
            if (u > t && matches_local_minute(r, m)) {
                if (m < now) ++stats.gap_fires;
                return u;
            }
        }
        seen = std::max(seen, now);
    }
    return std::nullopt;
}

sys_seconds random_instant(Generator& g, int from_year, int to_year) {
    const sys_seconds lo = sys_days{year{from_year} / 1 / 1};
    const sys_seconds hi = sys_days{year{to_year} / 1 / 1};
    std::uniform_int_distribution<int64_t> d(lo.time_since_epoch().count(),
                                             hi.time_since_epoch().count());
    sys_seconds t{seconds{d(g.rng())}};
    // Now and then at the very end of a month or a year, where carries happen.
    if (g.chance(15)) {
        const year_month_day ymd{floor<days>(t)};
        const year_month_day_last last{ymd.year() / ymd.month() / std::chrono::last};
        t = sys_days{last} + hours{23} + minutes{g.uniform(50, 59)} + seconds{g.uniform(0, 59)};
    }
    return t;
}

// An instant within a few hours of the first change of offset in `zone` after a random day
// (found with the zone's own offsets, which the TimeZone tests check against glibc).
sys_seconds near_change(Generator& g, const TimeZone& zone) {
    sys_seconds t = random_instant(g, 1971, 2099);
    for (int i = 0; i < 800 && zone.offset_at(t) == zone.offset_at(t + days{1}); ++i) t += days{1};
    sys_seconds lo = t, hi = t + days{1};
    while (hi - lo > seconds{1}) {
        const sys_seconds mid = lo + (hi - lo) / 2;
        (zone.offset_at(mid) == zone.offset_at(lo) ? lo : hi) = mid;
    }
    return hi + minutes{g.uniform(-3 * 60, 60)} + seconds{g.uniform(0, 59)};
}

}  // namespace

TEST_CASE("CronSchedule.Reference.ParserMatchesGeneratedSets") {
    Generator g(1);
    for (int i = 0; i < 2000; ++i) {
        const Reference r = g.expression(40, false);
        CAPTURE(r.text);
        const CronSchedule s = CronSchedule::parse(r.text);
        CHECK(CronSchedule::parse(s.describe()) == s);
        for (int k = 0; k < 50; ++k) {
            const sys_seconds t = random_instant(g, 1970, 2100);
            const LocalDateTime l = TimeZone::utc().to_local(t);
            const year_month_day ymd{floor<days>(t)};
            REQUIRE(s.matches(l) == r.matches(ymd, l.hour, l.minute));
        }
    }
}

TEST_CASE("CronSchedule.Reference.UtcAgreesWithMinuteByMinute") {
    constexpr int kLimit = 400 * 1440;  // look 400 days ahead
    Generator g(2);
    const TimeZone z = TimeZone::utc();
    int found = 0;
    for (int i = 0; i < 3000; ++i) {
        const Reference r = g.expression(i % 3 == 0 ? 30 : 60, false);
        const sys_seconds t = random_instant(g, 1970, 2100);
        CAPTURE(r.text);
        CAPTURE(text(t));
        const auto expected = reference_next_utc(r, t, kLimit);
        const auto actual = CronSchedule::parse(r.text).next_after(t, z);
        if (expected) {
            ++found;
            REQUIRE(actual);
            REQUIRE(text(*actual) == text(*expected));
        } else {
            REQUIRE((!actual || *actual > t + minutes{kLimit}));
        }
    }
    CHECK(found > 2500);
}

TEST_CASE("CronSchedule.Reference.ZonesAgreeWithMinuteByMinute") {
    constexpr int kLimit = 10 * 1440;  // ten days: enough to cross a change
    struct Run {
        const char* zone;
        int cases;
    };
    Generator g(3);
    for (Run run : {Run{"Europe/Berlin", 600}, Run{"America/New_York", 300},
                    Run{"Australia/Lord_Howe", 300}}) {
        const std::string zone_name = run.zone;
        CAPTURE(zone_name);
        const TimeZone z = TimeZone::load(run.zone);
        int found = 0;
        DstStats stats;
        for (int i = 0; i < run.cases; ++i) {
            const Reference r = g.expression(75, true);
            const sys_seconds t = g.chance(70) ? near_change(g, z) : random_instant(g, 1971, 2100);
            CAPTURE(r.text);
            CAPTURE(text(t));
            const auto expected = reference_next_zone(r, z, t, kLimit, stats);
            const auto actual = CronSchedule::parse(r.text).next_after(t, z);
            if (expected) {
                ++found;
                REQUIRE(actual);
                REQUIRE(text(*actual) == text(*expected));
            } else {
                REQUIRE((!actual || *actual > t + minutes{kLimit}));
            }
        }
        CHECK(found > run.cases / 2);
        // The cases did reach the interesting part.
        CHECK(stats.gap_fires > 0);
        CHECK(stats.repeats_ignored > 0);
    }
}
