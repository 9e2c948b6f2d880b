#include <doctest/doctest.h>

#include "engine/core/error.hpp"

using namespace artistsaid;

TEST_CASE("Error.ExitCodes.FollowTheContract") {
    CHECK(InputError("x").exit_code() == ExitCode::kBadInput);
    CHECK(InputError("x", ErrorCode::kUsage).exit_code() == ExitCode::kBadInput);
    CHECK(UnavailableError("x").exit_code() == ExitCode::kUnavailable);
    CHECK(WorkError("x").exit_code() == ExitCode::kFailed);
    CHECK(StoreError("x", "23505", ErrorCode::kConflict).exit_code() == ExitCode::kFailed);
    CHECK(InputError("x", ErrorCode::kMigrationChanged).exit_code() == ExitCode::kBadInput);
}

TEST_CASE("Error.InputError.NamesFileLineColumn") {
    InputError e("unknown key 'stpes'", SourceLocation{"billing.yaml", 4, 3});
    CHECK(std::string(e.what()) == "billing.yaml:4:3: unknown key 'stpes'");
    REQUIRE(e.where().has_value());
    CHECK(e.where()->line == 4);
    CHECK(to_string(ErrorCode::kInvalidInput) == "invalid_input");
}
