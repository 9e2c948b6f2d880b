#include "tests/support/test_env.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>

namespace artistsaid::test {
namespace {

std::string required_env(const char* name) {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0') {
        FAIL("environment variable " << std::string(name)
                                     << " is not set: run integration tests through scripts/test.sh");
    }
    return value;
}

}  // namespace

std::string database_url() { return required_env("ARTISTSAID_TEST_DATABASE_URL"); }
std::string redis_url() { return required_env("ARTISTSAID_TEST_REDIS_URL"); }
std::string source_dir() { return required_env("ARTISTSAID_SOURCE_DIR"); }
std::string cli_binary() { return required_env("ARTISTSAID_BINARY"); }

std::string unique_name(const std::string& stem) {
    static std::atomic<int> counter{0};
    auto ticks = std::chrono::steady_clock::now().time_since_epoch().count() % 1000000;
    return stem + "_" + std::to_string(::getpid()) + "_" + std::to_string(ticks) + "_" +
           std::to_string(counter.fetch_add(1));
}

}  // namespace artistsaid::test
