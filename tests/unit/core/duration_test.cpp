#include <doctest/doctest.h>

#include "engine/core/duration.hpp"
#include "engine/core/error.hpp"

using namespace std::chrono_literals;
using artistsaid::format_duration;
using artistsaid::parse_duration;

TEST_CASE("Duration.Parse.Units") {
    CHECK(parse_duration("250ms") == 250ms);
    CHECK(parse_duration("30s") == 30s);
    CHECK(parse_duration("10m") == 10min);
    CHECK(parse_duration("2h") == 2h);
    CHECK(parse_duration("1d") == 24h);
    CHECK(parse_duration("1w") == 168h);
    CHECK(parse_duration("1h30m") == 90min);
    CHECK(parse_duration("0s") == 0ms);
}

TEST_CASE("Duration.Parse.RejectsBadText") {
    for (const char* bad : {"", "10", "s", "1x", "-5s", "1.5s", "10 s", "1h30", "99999999999999999999s"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(parse_duration(bad), artistsaid::InputError);
    }
}

TEST_CASE("Duration.Format.IsExactAndParsesBack") {
    CHECK(format_duration(90s) == "1m30s");
    CHECK(format_duration(0ms) == "0s");
    CHECK(format_duration(1500ms) == "1s500ms");
    CHECK(format_duration(25h) == "1d1h");
    for (std::chrono::milliseconds d : std::initializer_list<std::chrono::milliseconds>{1ms, 59s, 61min, 49h + 1ms}) CHECK(parse_duration(format_duration(d)) == d);
}
