// The services that scripts/test.sh started for this test run, read from the environment.
#pragma once

#include <string>

namespace artistsaid::test {

/// ARTISTSAID_TEST_DATABASE_URL: a superuser connection to the private PostgreSQL
/// (database `postgres`), able to create throw-away databases. Fails the test if unset.
std::string database_url();

/// ARTISTSAID_TEST_REDIS_URL: the private Redis. Fails the test if unset.
std::string redis_url();

/// The repository root (ARTISTSAID_SOURCE_DIR, set by CTest).
std::string source_dir();

/// The path of the built artistsaid binary (ARTISTSAID_BINARY, set by CTest).
std::string cli_binary();

/// A prefix unique to this process and call ("t12345_3_"), for keys, names and schemas.
std::string unique_name(const std::string& stem);

}  // namespace artistsaid::test
