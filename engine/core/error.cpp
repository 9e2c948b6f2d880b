#include "engine/core/error.hpp"

namespace artistsaid {

std::string_view to_string(ErrorCode code) noexcept {
    switch (code) {
        case ErrorCode::kInternal: return "internal";
        case ErrorCode::kUsage: return "usage";
        case ErrorCode::kInvalidInput: return "invalid_input";
        case ErrorCode::kNotFound: return "not_found";
        case ErrorCode::kConflict: return "conflict";
        case ErrorCode::kMigrationChanged: return "migration_changed";
        case ErrorCode::kCurrencyMismatch: return "currency_mismatch";
        case ErrorCode::kOverflow: return "overflow";
        case ErrorCode::kWorkFailed: return "work_failed";
        case ErrorCode::kTimeout: return "timeout";
        case ErrorCode::kUnavailable: return "unavailable";
        case ErrorCode::kStore: return "store";
    }
    return "internal";
}

ExitCode exit_code_for(ErrorCode code) noexcept {
    switch (code) {
        case ErrorCode::kUsage:
        case ErrorCode::kInvalidInput:
        case ErrorCode::kNotFound:
        case ErrorCode::kMigrationChanged:
        case ErrorCode::kCurrencyMismatch:
            return ExitCode::kBadInput;
        case ErrorCode::kUnavailable:
        case ErrorCode::kTimeout:
            return ExitCode::kUnavailable;
        case ErrorCode::kInternal:
        case ErrorCode::kConflict:
        case ErrorCode::kOverflow:
        case ErrorCode::kWorkFailed:
        case ErrorCode::kStore:
            return ExitCode::kFailed;
    }
    return ExitCode::kFailed;
}

std::string InputError::format_located(const std::string& message, const SourceLocation& where) {
    return where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column) +
           ": " + message;
}

}  // namespace artistsaid
