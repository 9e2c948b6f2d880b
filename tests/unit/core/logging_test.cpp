#include <doctest/doctest.h>

#include "engine/core/logging.hpp"

namespace logging = artistsaid::logging;

TEST_CASE("Logging.Redact.ReplacesEveryRegisteredSecret") {
    logging::add_secret("s3cr3t-pass");
    logging::add_secret("sk_test_abcdef123456");
    logging::add_secret("abc");  // too short to redact safely: ignored
    CHECK(logging::redact("login with s3cr3t-pass failed; key sk_test_abcdef123456; abc") ==
          "login with *** failed; key ***; abc");
    CHECK(logging::redact("nothing here") == "nothing here");
}

TEST_CASE("Logging.Init.RejectsUnknownLevelAndFormat") {
    CHECK_THROWS(logging::init({"loud", "text"}));
    CHECK_THROWS(logging::init({"info", "xml"}));
    CHECK_NOTHROW(logging::init({"warn", "json"}));
}
