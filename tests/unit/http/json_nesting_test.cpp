#include "engine/http/json_nesting.hpp"

#include <doctest/doctest.h>

#include <string>

using artistsaid::http::json_nesting_exceeds;
using artistsaid::http::kMaxJsonDepth;

TEST_CASE("Http.JsonNesting.CountsArraysAndObjectsOutsideStrings") {
    CHECK_FALSE(json_nesting_exceeds("", 1));
    CHECK_FALSE(json_nesting_exceeds("{}", 1));
    CHECK(json_nesting_exceeds("[[]]", 1));
    CHECK_FALSE(json_nesting_exceeds("[[]]", 2));
    CHECK_FALSE(json_nesting_exceeds("[[],[],{\"a\":1},[]]", 2));  // siblings do not add up
    CHECK(json_nesting_exceeds("[[],[],{\"a\":[]}]", 2));
    CHECK(json_nesting_exceeds("{\"a\":{\"b\":[1]}}", 2));
    // Brackets inside strings, escaped quotes included, do not count.
    CHECK_FALSE(json_nesting_exceeds(R"({"a":"[[[[{{{{"})", 1));
    CHECK_FALSE(json_nesting_exceeds(R"({"a":"\"[[[[","b":"\\"})", 1));
    CHECK(json_nesting_exceeds(R"({"a":"\\","b":[[1]]})", 2));  // the string ended at \\"
    // Unbalanced closers never make the depth negative.
    CHECK(json_nesting_exceeds("]]]]]][[", 1));
}

TEST_CASE("Http.JsonNesting.TheDefaultBoundAndAHugeBody") {
    const std::string ok = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
    CHECK_FALSE(json_nesting_exceeds(ok));
    CHECK(json_nesting_exceeds("[" + ok + "]"));
    CHECK(json_nesting_exceeds(std::string(200000, '[') + std::string(200000, ']')));
}
