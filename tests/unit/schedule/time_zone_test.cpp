// TimeZone: loading from tzdata, conversions (cross-checked against glibc), DST mappings,
// the POSIX footer beyond the last transition, bad names with suggestions, $TZDIR, TZif
// parsing of hand-made files, and concurrent loads.
#include "engine/schedule/time_zone.hpp"

#include <doctest/doctest.h>
#include <stdlib.h>
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine/core/error.hpp"
#include "tests/unit/schedule/schedule_test_support.hpp"

using namespace artistsaid;
using namespace artistsaid::schedule;
using artistsaid::schedule::testing::text;
using artistsaid::schedule::testing::utc;
using std::chrono::seconds;
using Kind = LocalMapping::Kind;

namespace {

std::string error_of(std::string_view name) {
    try {
        TimeZone::load(name);
    } catch (const InputError& e) {
        return e.what();
    }
    return "";
}

ErrorCode code_of(std::string_view name) {
    try {
        TimeZone::load(name);
    } catch (const InputError& e) {
        return e.code();
    }
    return ErrorCode::kInternal;
}

// Sets an environment variable for one scope (tests run one at a time).
class EnvGuard {
public:
    EnvGuard(const char* name, const std::string& value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        ::setenv(name, value.c_str(), 1);
    }
    ~EnvGuard() {
        if (old_) {
            ::setenv(name_, old_->c_str(), 1);
        } else {
            ::unsetenv(name_);
        }
    }
    EnvGuard(const EnvGuard&) = delete;
    EnvGuard& operator=(const EnvGuard&) = delete;

private:
    const char* name_;
    std::optional<std::string> old_;
};

// A directory under the system temp dir, removed with its contents at the end of the scope.
class TempDir {
public:
    TempDir() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "artistsaid-tz-XXXXXX").string();
        path_ = ::mkdtemp(pattern.data());
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// A hand-made TZif file (RFC 8536). Version 0 writes only the 32-bit block.
struct TzifType {
    int32_t offset;
    bool dst;
    std::string abbreviation;
};

struct TzifSpec {
    char version = '2';
    std::vector<int64_t> times;
    std::vector<uint8_t> indexes;
    std::vector<TzifType> types = {{0, false, "UTC"}};
    std::string footer;
    uint32_t leapcnt = 0;
};

void put32(std::string& out, uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}
void put64(std::string& out, uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

std::string tzif(const TzifSpec& spec) {
    std::string chars;
    std::vector<uint8_t> at;
    for (const auto& t : spec.types) {
        at.push_back(static_cast<uint8_t>(chars.size()));
        chars += t.abbreviation;
        chars.push_back('\0');
    }
    auto block = [&](int time_size) {
        std::string out = "TZif";
        out.push_back(spec.version);
        out.append(15, '\0');
        for (uint32_t count : {0u, 0u, spec.leapcnt, uint32_t(spec.times.size()),
                               uint32_t(spec.types.size()), uint32_t(chars.size())})
            put32(out, count);
        for (int64_t t : spec.times)
            time_size == 8 ? put64(out, uint64_t(t)) : put32(out, uint32_t(int32_t(t)));
        for (uint8_t i : spec.indexes) out.push_back(char(i));
        for (size_t i = 0; i < spec.types.size(); ++i) {
            put32(out, uint32_t(spec.types[i].offset));
            out.push_back(spec.types[i].dst ? 1 : 0);
            out.push_back(char(at[i]));
        }
        out += chars;
        out.append(spec.leapcnt * (time_size + 4), '\0');
        return out;
    };
    std::string out = block(4);
    if (spec.version != 0) out += block(8) + "\n" + spec.footer + "\n";
    return out;
}

std::string from_tzif_error(const std::string& data) {
    try {
        TimeZone::from_tzif("Test/Zone", data);
    } catch (const InputError& e) {
        return e.what();
    }
    return "";
}

// glibc's view of a zone, as an independent oracle: offset and abbreviation at `t`.
struct GlibcView {
    long offset;
    std::string abbreviation;
};

GlibcView glibc_view(int64_t t) {
    time_t tt = static_cast<time_t>(t);
    struct tm tm {};
    ::localtime_r(&tt, &tm);
    return {tm.tm_gmtoff, tm.tm_zone};
}

}  // namespace

TEST_CASE("TimeZone.Utc.IsBuiltIn") {
    TimeZone z = TimeZone::utc();
    CHECK(z.name() == "UTC");
    CHECK(z.offset_at(utc("2026-06-01 12:00")) == seconds{0});
    CHECK(z.abbreviation_at(utc("2026-06-01 12:00")) == "UTC");
    CHECK_FALSE(z.is_dst_at(utc("2026-06-01 12:00")));
    LocalDateTime l = z.to_local(utc("2024-02-29 23:59:58"));
    CHECK(l == LocalDateTime{2024, 2, 29, 23, 59, 58});
    LocalMapping m = z.from_local({2024, 2, 29, 23, 59, 58});
    CHECK(m.kind == Kind::kUnique);
    CHECK(m.first == utc("2024-02-29 23:59:58"));
    CHECK(m.second == m.first);
    CHECK(TimeZone::load("UTC").name() == "UTC");
}

TEST_CASE("TimeZone.Berlin.OffsetsAndAbbreviations") {
    TimeZone z = TimeZone::load("Europe/Berlin");
    CHECK(z.name() == "Europe/Berlin");
    CHECK(z.offset_at(utc("2026-01-15 12:00")) == seconds{3600});
    CHECK(z.abbreviation_at(utc("2026-01-15 12:00")) == "CET");
    CHECK(z.offset_at(utc("2026-07-15 12:00")) == seconds{7200});
    CHECK(z.abbreviation_at(utc("2026-07-15 12:00")) == "CEST");
    CHECK(z.is_dst_at(utc("2026-07-15 12:00")));
    // The change itself: 01:00 UTC on the last Sundays of March and October.
    CHECK(z.offset_at(utc("2026-03-29 00:59:59")) == seconds{3600});
    CHECK(z.offset_at(utc("2026-03-29 01:00:00")) == seconds{7200});
    CHECK(z.offset_at(utc("2026-10-25 00:59:59")) == seconds{7200});
    CHECK(z.offset_at(utc("2026-10-25 01:00:00")) == seconds{3600});
    // Before standard time: local mean time, +00:53:28.
    CHECK(z.offset_at(utc("1880-01-01 00:00")) == seconds{53 * 60 + 28});
    CHECK(z.abbreviation_at(utc("1880-01-01 00:00")) == "LMT");
}

TEST_CASE("TimeZone.Berlin.ToLocalAndBack") {
    TimeZone z = TimeZone::load("Europe/Berlin");
    CHECK(z.to_local(utc("2026-03-29 00:59:59")) == LocalDateTime{2026, 3, 29, 1, 59, 59});
    CHECK(z.to_local(utc("2026-03-29 01:00:00")) == LocalDateTime{2026, 3, 29, 3, 0, 0});
    CHECK(z.to_local(utc("2026-10-25 00:30:00")) == LocalDateTime{2026, 10, 25, 2, 30, 0});
    CHECK(z.to_local(utc("2026-10-25 01:30:00")) == LocalDateTime{2026, 10, 25, 2, 30, 0});
    CHECK(z.to_local(utc("2026-12-31 23:30:00")) == LocalDateTime{2027, 1, 1, 0, 30, 0});

    LocalMapping unique = z.from_local({2026, 7, 1, 12, 0, 0});
    CHECK(unique.kind == Kind::kUnique);
    CHECK(unique.first == utc("2026-07-01 10:00"));

    // Spring forward: 02:00-02:59:59 does not exist; the next valid instant is 03:00 CEST.
    for (LocalDateTime gap :
         {LocalDateTime{2026, 3, 29, 2, 0, 0}, LocalDateTime{2026, 3, 29, 2, 30, 0},
          LocalDateTime{2026, 3, 29, 2, 59, 59}}) {
        CAPTURE(gap.to_string());
        LocalMapping m = z.from_local(gap);
        CHECK(m.kind == Kind::kNonexistent);
        CHECK(text(m.first) == "2026-03-29 01:00:00");
        CHECK(m.second == m.first);
    }
    CHECK(z.from_local({2026, 3, 29, 1, 59, 59}).kind == Kind::kUnique);
    CHECK(z.from_local({2026, 3, 29, 3, 0, 0}).kind == Kind::kUnique);
    CHECK(text(z.from_local({2026, 3, 29, 3, 0, 0}).first) == "2026-03-29 01:00:00");

    // Fall back: 02:00-02:59:59 happens twice, first in CEST then in CET.
    LocalMapping twice = z.from_local({2026, 10, 25, 2, 30, 0});
    CHECK(twice.kind == Kind::kAmbiguous);
    CHECK(text(twice.first) == "2026-10-25 00:30:00");
    CHECK(text(twice.second) == "2026-10-25 01:30:00");
    CHECK(z.from_local({2026, 10, 25, 1, 59, 59}).kind == Kind::kUnique);
    CHECK(z.from_local({2026, 10, 25, 2, 0, 0}).kind == Kind::kAmbiguous);
    CHECK(z.from_local({2026, 10, 25, 3, 0, 0}).kind == Kind::kUnique);
}

TEST_CASE("TimeZone.NewYork.GapAndRepeat") {
    TimeZone z = TimeZone::load("America/New_York");
    LocalMapping gap = z.from_local({2026, 3, 8, 2, 30, 0});
    CHECK(gap.kind == Kind::kNonexistent);
    CHECK(text(gap.first) == "2026-03-08 07:00:00");  // 03:00 EDT
    LocalMapping twice = z.from_local({2026, 11, 1, 1, 30, 0});
    CHECK(twice.kind == Kind::kAmbiguous);
    CHECK(text(twice.first) == "2026-11-01 05:30:00");   // 01:30 EDT
    CHECK(text(twice.second) == "2026-11-01 06:30:00");  // 01:30 EST
    CHECK(z.abbreviation_at(twice.first) == "EDT");
    CHECK(z.abbreviation_at(twice.second) == "EST");
}

TEST_CASE("TimeZone.LordHowe.HalfHourDaylightSaving") {
    TimeZone z = TimeZone::load("Australia/Lord_Howe");
    CHECK(z.offset_at(utc("2026-07-01 00:00")) == seconds{10 * 3600 + 1800});
    CHECK(z.offset_at(utc("2026-12-01 00:00")) == seconds{11 * 3600});
    CHECK(z.abbreviation_at(utc("2026-07-01 00:00")) == "+1030");
    // October: 02:00 → 02:30, so 02:00-02:29 does not exist.
    LocalMapping gap = z.from_local({2026, 10, 4, 2, 15, 0});
    CHECK(gap.kind == Kind::kNonexistent);
    CHECK(text(gap.first) == "2026-10-03 15:30:00");  // 02:30 +11
    CHECK(z.from_local({2026, 10, 4, 2, 30, 0}).kind == Kind::kUnique);
    // April: 02:00 → 01:30, so 01:30-01:59 happens twice, half an hour apart.
    LocalMapping twice = z.from_local({2026, 4, 5, 1, 45, 0});
    CHECK(twice.kind == Kind::kAmbiguous);
    CHECK(text(twice.first) == "2026-04-04 14:45:00");
    CHECK(text(twice.second) == "2026-04-04 15:15:00");
    CHECK(z.from_local({2026, 4, 5, 1, 29, 0}).kind == Kind::kUnique);
}

TEST_CASE("TimeZone.Footer.RuleBeyondTheLastTransition") {
    // Debian's "fat" files list transitions up to 2037; 2045 comes from the footer
    // "CET-1CEST,M3.5.0,M10.5.0/3" (last Sundays of March and October).
    TimeZone z = TimeZone::load("Europe/Berlin");
    CHECK(z.offset_at(utc("2045-03-26 00:59:59")) == seconds{3600});
    CHECK(z.offset_at(utc("2045-03-26 01:00:00")) == seconds{7200});
    CHECK(z.abbreviation_at(utc("2045-07-01 00:00")) == "CEST");
    CHECK(z.offset_at(utc("2045-10-29 00:59:59")) == seconds{7200});
    CHECK(z.offset_at(utc("2045-10-29 01:00:00")) == seconds{3600});
    CHECK(text(z.from_local({2045, 3, 26, 2, 30, 0}).first) == "2045-03-26 01:00:00");
    CHECK(z.from_local({2045, 3, 26, 2, 30, 0}).kind == Kind::kNonexistent);
    LocalMapping twice = z.from_local({2045, 10, 29, 2, 30, 0});
    CHECK(twice.kind == Kind::kAmbiguous);
    CHECK(text(twice.first) == "2045-10-29 00:30:00");
    CHECK(text(twice.second) == "2045-10-29 01:30:00");
    // Far away, too: 2400 is a leap year, 28 March 2400 is not the last Sunday (26 March is).
    CHECK(z.offset_at(utc("2400-03-26 01:00:00")) == seconds{7200});
    CHECK(z.offset_at(utc("2400-03-26 00:59:59")) == seconds{3600});
    CHECK(z.offset_at(utc("9999-07-01 00:00:00")) == seconds{7200});
}

TEST_CASE("TimeZone.Conversions.AgreeWithGlibc") {
    // glibc's localtime_r reads the same files independently; the TZ variable is only
    // touched here, in a test, never by the library.
    const char* zones[] = {"Europe/Berlin",    "America/New_York",   "Australia/Lord_Howe",
                           "Europe/Dublin",    "Asia/Kolkata",       "America/Sao_Paulo",
                           "Pacific/Chatham",  "Africa/Casablanca",  "America/St_Johns",
                           "Antarctica/Troll", "Pacific/Apia",       "Asia/Tehran",
                           "America/Santiago", "Pacific/Kiritimati", "Europe/London"};
    std::mt19937_64 rng(20260329);
    // 1800-01-01 .. 2200-01-01.
    std::uniform_int_distribution<int64_t> instant(-5'364'662'400, 7'258'118'400);
    for (const char* name : zones) {
        CAPTURE(std::string(name));
        TimeZone z = TimeZone::load(name);
        EnvGuard tz("TZ", std::string(":") + name);
        ::tzset();
        int mismatches = 0;
        for (int i = 0; i < 3000; ++i) {
            const int64_t t = instant(rng);
            const std::chrono::sys_seconds at{seconds{t}};
            const GlibcView g = glibc_view(t);
            if (z.offset_at(at).count() != g.offset || z.abbreviation_at(at) != g.abbreviation) {
                if (++mismatches <= 5) {
                    CAPTURE(text(at));
                    CHECK(z.offset_at(at).count() == g.offset);
                    CHECK(z.abbreviation_at(at) == g.abbreviation);
                }
            }
            // from_local ∘ to_local finds the instant again (as one of two if repeated).
            LocalMapping back = z.from_local(z.to_local(at));
            CHECK((back.kind != Kind::kNonexistent &&
                   (back.first == at || (back.kind == Kind::kAmbiguous && back.second == at))));
        }
        CHECK(mismatches == 0);
    }
    ::unsetenv("TZ");
    ::tzset();
}

TEST_CASE("TimeZone.FromLocal.GapsAndRepeatsAreConsistent") {
    // Around every change of 1970-2100 in a few zones: a nonexistent time's instant is the
    // first whose wall clock passed it; a repeated time's two instants both show it.
    for (const char* name : {"Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
                             "Europe/Dublin", "Pacific/Chatham"}) {
        CAPTURE(std::string(name));
        TimeZone z = TimeZone::load(name);
        int gaps = 0, repeats = 0;
        for (int64_t day = 0; day < 130 * 366; day += 1) {
            const std::chrono::sys_seconds noon{seconds{day * 86400 + 43200}};
            const std::chrono::sys_seconds next_noon = noon + seconds{86400};
            if (z.offset_at(noon) == z.offset_at(next_noon)) continue;
            for (auto t = noon; t < next_noon; t += seconds{900}) {
                for (int delta : {-60, 0, 60}) {
                    LocalDateTime probe = z.to_local(t + seconds{delta});
                    LocalMapping m = z.from_local(probe);
                    if (m.kind == Kind::kNonexistent) {
                        ++gaps;
                        CHECK(z.to_local(m.first) > probe);
                        CHECK(z.to_local(m.first - seconds{1}) < probe);
                    } else {
                        CHECK(z.to_local(m.first) == probe);
                        CHECK(z.to_local(m.second) == probe);
                        if (m.kind == Kind::kAmbiguous) {
                            ++repeats;
                            CHECK(m.first < m.second);
                        }
                    }
                }
            }
        }
        CHECK(repeats > 0);
        (void)gaps;
    }
}

TEST_CASE("TimeZone.Load.RefusesNamesOutsideTheZoneDirectory") {
    for (const char* bad :
         {"", "../etc/passwd", "/etc/localtime", "Europe/../../etc/passwd", ".hidden",
          "Europe//Berlin", "Europe/Berlin/", "localtime", "posixrules"}) {
        CAPTURE(std::string(bad));
        CHECK(code_of(bad) == ErrorCode::kInvalidInput);
        CHECK(error_of(bad).find("invalid time zone name") != std::string::npos);
    }
}

TEST_CASE("TimeZone.Load.UnknownNameSuggestsTheClosestZone") {
    CHECK(error_of("Europe/Berln") ==
          "unknown time zone 'Europe/Berln' (did you mean 'Europe/Berlin'?)");
    CHECK(code_of("Europe/Berln") == ErrorCode::kNotFound);
    CHECK(error_of("europe/berlin").find("did you mean 'Europe/Berlin'?") != std::string::npos);
    CHECK(error_of("Berlin").find("did you mean 'Europe/Berlin'?") != std::string::npos);
    CHECK(error_of("New York").find("did you mean 'America/New_York'?") != std::string::npos);
    CHECK(code_of("New York") == ErrorCode::kNotFound);
    const std::string none = error_of("Mars/Olympus_Mons");
    CHECK(none.find("unknown time zone 'Mars/Olympus_Mons': no such zone in ") == 0);
    CHECK(none.find("expected an IANA name such as Europe/Berlin") != std::string::npos);
    // Files in the directory that are not zones.
    CHECK(code_of("zone.tab") == ErrorCode::kNotFound);
    CHECK(code_of("Europe") == ErrorCode::kNotFound);
}

TEST_CASE("TimeZone.Load.RefusesLeapSecondZones") {
    if (!std::filesystem::exists(TimeZone::zoneinfo_directory() + "/right/Europe/Berlin")) return;
    CHECK(error_of("right/Europe/Berlin").find("leap-second zones") != std::string::npos);
}

TEST_CASE("TimeZone.AvailableNames.ListsZonesOnly") {
    const std::vector<std::string> names = TimeZone::available_names();
    CHECK(std::is_sorted(names.begin(), names.end()));
    auto has = [&](std::string_view n) {
        return std::binary_search(names.begin(), names.end(), std::string(n));
    };
    CHECK(has("Europe/Berlin"));
    CHECK(has("America/Argentina/Buenos_Aires"));
    CHECK(has("UTC"));
    CHECK_FALSE(has("zone.tab"));
    CHECK_FALSE(has("localtime"));
    CHECK_FALSE(has("posix/Europe/Berlin"));
    CHECK_FALSE(has("right/Europe/Berlin"));
    CHECK(names.size() > 300);
}

TEST_CASE("TimeZone.Load.HonoursTzdir") {
    TempDir dir;
    std::filesystem::create_directories(dir.path() / "Test");
    std::filesystem::copy_file(TimeZone::zoneinfo_directory() + "/Europe/Berlin",
                               dir.path() / "Test" / "Zone");
    { std::ofstream(dir.path() / "notes.txt") << "not a zone\n"; }
    EnvGuard tzdir("TZDIR", dir.path().string() + "/");
    CHECK(TimeZone::zoneinfo_directory() == dir.path().string());
    TimeZone z = TimeZone::load("Test/Zone");
    CHECK(z.name() == "Test/Zone");
    CHECK(z.offset_at(utc("2026-07-01 00:00")) == seconds{7200});
    CHECK(code_of("Europe/Berlin") == ErrorCode::kNotFound);
    CHECK(code_of("notes.txt") == ErrorCode::kNotFound);
    CHECK(TimeZone::load("UTC").name() == "UTC");  // built in: works without tzdata
    CHECK(TimeZone::available_names() == std::vector<std::string>{"Test/Zone", "UTC"});
    CHECK(error_of("Test/Zon") == "unknown time zone 'Test/Zon' (did you mean 'Test/Zone'?)");
}

TEST_CASE("TimeZone.Load.ConcurrentLoadsShareOneCache") {
    // Several threads load and use the same zones at once; every answer is the same.
    const char* names[] = {"Europe/Berlin", "America/New_York", "Asia/Tokyo", "Europe/Paris"};
    const auto probe = utc("2026-10-25 00:30");
    for (int threads : {1, 2, 8}) {
        CAPTURE(threads);
        std::vector<std::future<std::vector<int64_t>>> results;
        for (int i = 0; i < threads; ++i) {
            results.push_back(std::async(std::launch::async, [&] {
                std::vector<int64_t> offsets;
                for (int round = 0; round < 50; ++round)
                    for (const char* n : names)
                        offsets.push_back(TimeZone::load(n).offset_at(probe).count());
                return offsets;
            }));
        }
        std::vector<int64_t> first;
        for (auto& r : results) {
            REQUIRE(r.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
            auto offsets = r.get();
            if (first.empty()) first = offsets;
            CHECK(offsets == first);
        }
        CHECK(first[0] == 7200);
        CHECK(first[1] == -14400);
        CHECK(first[2] == 32400);
    }
}

TEST_CASE("TimeZone.Range.IsYears1To9999") {
    TimeZone z = TimeZone::load("Europe/Berlin");
    CHECK_NOTHROW(z.to_local(TimeZone::kMinInstant));
    CHECK_NOTHROW(z.to_local(TimeZone::kMaxInstant));
    CHECK(z.to_local(TimeZone::kMaxInstant).year == 9999);
    CHECK(z.to_local(TimeZone::kMinInstant).year == 1);
    CHECK_THROWS_AS(z.offset_at(TimeZone::kMaxInstant + seconds{1}), InputError);
    CHECK_THROWS_AS(z.to_local(TimeZone::kMinInstant - seconds{1}), InputError);
    CHECK_THROWS_AS(z.from_local({2026, 2, 29, 12, 0, 0}), InputError);
    CHECK_THROWS_AS(z.from_local({2026, 13, 1, 12, 0, 0}), InputError);
    CHECK_THROWS_AS(z.from_local({2026, 1, 1, 24, 0, 0}), InputError);
    CHECK_THROWS_AS(z.from_local({10000, 1, 1, 0, 0, 0}), InputError);
}

TEST_CASE("LocalDateTime.ValidityWeekdayAndText") {
    CHECK(LocalDateTime{2024, 2, 29, 0, 0, 0}.is_valid());
    CHECK_FALSE(LocalDateTime{2100, 2, 29, 0, 0, 0}.is_valid());
    CHECK(LocalDateTime{2000, 2, 29, 0, 0, 0}.is_valid());
    CHECK_FALSE(LocalDateTime{2026, 4, 31, 0, 0, 0}.is_valid());
    CHECK_FALSE(LocalDateTime{2026, 1, 1, 0, 60, 0}.is_valid());
    CHECK_FALSE(LocalDateTime{0, 1, 1, 0, 0, 0}.is_valid());
    CHECK(LocalDateTime{2026, 3, 29, 0, 0, 0}.weekday() == 0);  // a Sunday
    CHECK(LocalDateTime{1970, 1, 1, 0, 0, 0}.weekday() == 4);   // a Thursday
    CHECK(LocalDateTime{2026, 3, 29, 2, 30, 5}.to_string() == "2026-03-29T02:30:05");
    CHECK(LocalDateTime{2026, 3, 29, 2, 30, 5} < LocalDateTime{2026, 3, 29, 3, 0, 0});
}

TEST_CASE("TimeZone.FromTzif.Version1File") {
    TzifSpec spec;
    spec.version = 0;
    spec.types = {{0, false, "ZERO"}, {3600, true, "ONE"}};
    spec.times = {1000, 2000};
    spec.indexes = {1, 0};
    TimeZone z = TimeZone::from_tzif("Test/V1", tzif(spec));
    CHECK(z.name() == "Test/V1");
    const auto at = [](int64_t t) { return std::chrono::sys_seconds{seconds{t}}; };
    CHECK(z.offset_at(at(999)) == seconds{0});  // before the first: the first type
    CHECK(z.offset_at(at(1000)) == seconds{3600});
    CHECK(z.abbreviation_at(at(1500)) == "ONE");
    CHECK(z.offset_at(at(2000)) == seconds{0});  // no footer: the last type stays
    CHECK(z.offset_at(utc("2300-01-01 00:00")) == seconds{0});
}

TEST_CASE("TimeZone.FromTzif.FooterOnly") {
    TzifSpec spec;
    spec.types = {{3600, false, "CET"}};
    spec.footer = "CET-1CEST,M3.5.0,M10.5.0/3";
    TimeZone z = TimeZone::from_tzif("Test/Footer", tzif(spec));
    CHECK(z.offset_at(utc("2026-03-29 00:59:59")) == seconds{3600});
    CHECK(z.offset_at(utc("2026-03-29 01:00:00")) == seconds{7200});
    CHECK(z.abbreviation_at(utc("2026-03-29 01:00:00")) == "CEST");
    CHECK(z.from_local({2026, 10, 25, 2, 30, 0}).kind == Kind::kAmbiguous);
}

TEST_CASE("TimeZone.FromTzif.DaylightTimeAllYear") {
    // RFC 8536 3.3.1: "EST5EDT,0/0,J365/25" is daylight time all year round.
    TzifSpec spec;
    spec.types = {{-14400, true, "EDT"}};
    spec.footer = "EST5EDT,0/0,J365/25";
    TimeZone z = TimeZone::from_tzif("Test/AllYear", tzif(spec));
    for (const char* t : {"2026-01-01 00:00", "2026-01-01 04:59:59", "2026-01-01 05:00",
                          "2026-06-30 12:00", "2026-12-31 23:59:59", "2028-02-29 12:00"}) {
        CAPTURE(std::string(t));
        CHECK(z.offset_at(utc(t)) == seconds{-14400});
        CHECK(z.is_dst_at(utc(t)));
    }
    CHECK(z.from_local({2026, 1, 1, 0, 30, 0}).kind == Kind::kUnique);
}

TEST_CASE("TimeZone.FromTzif.RefusesDamagedFiles") {
    TzifSpec good;
    good.types = {{0, false, "ZERO"}, {3600, false, "ONE"}};
    good.times = {1000, 2000};
    good.indexes = {1, 0};
    good.footer = "ONE-1";
    CHECK_NOTHROW(TimeZone::from_tzif("Test/Good", tzif(good)));

    std::string data = tzif(good);
    CHECK(from_tzif_error("") == "time zone 'Test/Zone': not a usable TZif file (truncated)");
    CHECK(from_tzif_error("TZxf" + data.substr(4)).find("no TZif magic") != std::string::npos);
    CHECK_FALSE(from_tzif_error(data.substr(0, 60)).empty());
    for (size_t cut : {size_t{10}, size_t{44}, size_t{80}, data.size() - 1}) {
        CAPTURE(cut);
        CHECK_THROWS_AS(TimeZone::from_tzif("Test/Cut", data.substr(0, cut)), InputError);
    }

    TzifSpec v = good;
    v.version = '5';
    CHECK(from_tzif_error(tzif(v)).find("unknown version") != std::string::npos);
    TzifSpec leap = good;
    leap.leapcnt = 1;
    CHECK(from_tzif_error(tzif(leap)).find("leap-second zones") != std::string::npos);
    TzifSpec order = good;
    order.times = {2000, 1000};
    CHECK(from_tzif_error(tzif(order)).find("out of order") != std::string::npos);
    TzifSpec index = good;
    index.indexes = {1, 7};
    CHECK(from_tzif_error(tzif(index)).find("unknown type") != std::string::npos);
    TzifSpec offset = good;
    offset.types[1].offset = 100'000;
    CHECK(from_tzif_error(tzif(offset)).find("offset out of range") != std::string::npos);
    TzifSpec footer = good;
    footer.footer = "nonsense";
    CHECK(from_tzif_error(tzif(footer)).find("unsupported TZ string 'nonsense'") !=
          std::string::npos);
    CHECK(from_tzif_error(data.substr(0, data.size() - 1)).find("missing footer") !=
          std::string::npos);
    TzifSpec types = good;
    types.types.clear();
    types.indexes = {};
    types.times = {};
    CHECK(from_tzif_error(tzif(types)).find("no local time types") != std::string::npos);
}
