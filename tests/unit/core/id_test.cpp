#include <doctest/doctest.h>

#include <chrono>
#include <set>
#include <thread>
#include <vector>

#include "engine/core/id.hpp"

using artistsaid::Uuid;

TEST_CASE("Id.V7.HasVersionVariantAndTime") {
    auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    Uuid id = Uuid::v7();
    auto after = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
    CHECK(id.version() == 7);
    CHECK((id.bytes()[8] & 0xc0) == 0x80);
    CHECK(id.unix_ms() >= static_cast<uint64_t>(before));
    CHECK(id.unix_ms() <= static_cast<uint64_t>(after) + 1);
}

TEST_CASE("Id.V7.StrictlyIncreasingAndUniqueAcrossThreads") {
    constexpr int kThreads = 4, kPerThread = 20000;
    std::vector<std::vector<std::string>> made(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kPerThread; ++i) made[t].push_back(artistsaid::new_id());
        });
    }
    for (auto& th : threads) th.join();
    std::set<std::string> all;
    for (const auto& ids : made) {
        for (size_t i = 1; i < ids.size(); ++i) CHECK(ids[i - 1] < ids[i]);
        all.insert(ids.begin(), ids.end());
    }
    CHECK(all.size() == size_t{kThreads * kPerThread});
}

TEST_CASE("Id.Parse.RoundTripsAndRejectsMalformed") {
    Uuid id = Uuid::v7();
    auto parsed = Uuid::parse(id.to_string());
    REQUIRE(parsed.has_value());
    CHECK(*parsed == id);
    auto upper = Uuid::parse("0190A5F4-7C1B-7ABC-8DEF-0123456789AB");
    REQUIRE(upper.has_value());
    CHECK(upper->to_string() == "0190a5f4-7c1b-7abc-8def-0123456789ab");
    CHECK_FALSE(Uuid::parse("").has_value());
    CHECK_FALSE(Uuid::parse("0190a5f4-7c1b-7abc-8def-0123456789a").has_value());
    CHECK_FALSE(Uuid::parse("0190a5f4x7c1b-7abc-8def-0123456789ab").has_value());
    CHECK_FALSE(Uuid::parse("0190a5f4-7c1b-7abc-8def-0123456789ag").has_value());
}
