// Opening PostgreSQL connections with a deadline, and the one place where libpqxx's
// exceptions become the engine's errors.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <pqxx/connection>

namespace artistsaid::store {

/// Opens a connection; gives up after `timeout` (libpq's connect_timeout) with an
/// UnavailableError whose message names the host but never the password.
/// Every statement on the connection is bounded by `statement_timeout`.
std::unique_ptr<pqxx::connection> connect(
    const std::string& url, std::chrono::seconds timeout = std::chrono::seconds(5),
    std::chrono::milliseconds statement_timeout = std::chrono::minutes(5));

/// Rethrows the exception in flight (a pqxx or std exception) as an artistsaid error:
/// broken connections become UnavailableError, SQL errors StoreError with their SQLSTATE
/// (unique/check/foreign-key violations are ErrorCode::kConflict). `context` says what
/// we were doing ("applying migration 0002_queue.sql").
[[noreturn]] void throw_from_pqxx(std::string_view context);

}  // namespace artistsaid::store
