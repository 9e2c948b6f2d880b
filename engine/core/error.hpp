// The engine's error hierarchy: one root, split by meaning.
//
//   Error                      every error the engine raises; carries an ErrorCode
//   ├── InputError             the user's input is wrong (usage, YAML, expression, money text)
//   ├── WorkError              the work itself failed (a step, a gateway decline, overflow)
//   ├── UnavailableError       a dependency (Redis, PostgreSQL, a provider) cannot be reached
//   └── StoreError             PostgreSQL refused a statement; carries the SQLSTATE
//
// Each ErrorCode maps to one process exit code (see exit_code_for), so cron and systemd can
// act on the outcome: 0 done, 1 the work failed, 2 bad usage or bad input, 3 a dependency is
// unavailable. Messages never contain secrets: callers redact before they throw.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace artistsaid {

enum class ErrorCode {
    kInternal,          // a bug: an invariant did not hold
    kUsage,             // unknown command or flag, missing argument
    kInvalidInput,      // malformed value (YAML, JSON, money text, config value)
    kNotFound,          // a named thing does not exist
    kConflict,          // a uniqueness or state rule refused the change
    kMigrationChanged,  // an applied migration file was edited afterwards
    kCurrencyMismatch,  // arithmetic across two currencies
    kOverflow,          // an amount left the int64 range
    kWorkFailed,        // the work itself failed
    kTimeout,           // a deadline passed
    kUnavailable,       // a dependency cannot be reached
    kStore,             // PostgreSQL refused a statement
};

enum class ExitCode : int {
    kOk = 0,
    kFailed = 1,
    kBadInput = 2,
    kUnavailable = 3,
};

/// A stable, lower-case name for logs and JSON error bodies ("invalid_input").
std::string_view to_string(ErrorCode code) noexcept;

/// The process exit code an error of this code ends a command with.
ExitCode exit_code_for(ErrorCode code) noexcept;

/// Where in a user's file an input error was found (1-based line and column).
struct SourceLocation {
    std::string file;
    int line = 0;
    int column = 0;
};

class Error : public std::runtime_error {
public:
    Error(ErrorCode code, const std::string& message)
        : std::runtime_error(message), code_(code) {}

    ErrorCode code() const noexcept { return code_; }
    ExitCode exit_code() const noexcept { return exit_code_for(code_); }

private:
    ErrorCode code_;
};

/// The user's input is wrong; nothing was changed. Optionally points into a file.
class InputError : public Error {
public:
    explicit InputError(const std::string& message, ErrorCode code = ErrorCode::kInvalidInput)
        : Error(code, message) {}
    InputError(const std::string& message, SourceLocation where,
               ErrorCode code = ErrorCode::kInvalidInput)
        : Error(code, format_located(message, where)), where_(std::move(where)) {}

    const std::optional<SourceLocation>& where() const noexcept { return where_; }

private:
    static std::string format_located(const std::string& message, const SourceLocation& where);
    std::optional<SourceLocation> where_;
};

/// The work failed for a reason of its own (a decline, an overflow, a failed step).
class WorkError : public Error {
public:
    explicit WorkError(const std::string& message, ErrorCode code = ErrorCode::kWorkFailed)
        : Error(code, message) {}
};

/// A dependency (Redis, PostgreSQL, a provider's API) could not be reached in time.
class UnavailableError : public Error {
public:
    explicit UnavailableError(const std::string& message)
        : Error(ErrorCode::kUnavailable, message) {}
};

/// PostgreSQL refused a statement. `sqlstate()` is the five-character SQLSTATE, or empty.
class StoreError : public Error {
public:
    StoreError(const std::string& message, std::string sqlstate,
               ErrorCode code = ErrorCode::kStore)
        : Error(code, message), sqlstate_(std::move(sqlstate)) {}

    const std::string& sqlstate() const noexcept { return sqlstate_; }

private:
    std::string sqlstate_;
};

}  // namespace artistsaid
