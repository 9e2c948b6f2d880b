// Time-ordered identifiers for runs, jobs and events: UUID version 7 (RFC 9562).
//
// The first 48 bits are the Unix time in milliseconds, so ids sort by creation time as
// text and as PostgreSQL `uuid`. Within one millisecond a process's ids still increase:
// the 12-bit rand_a field is a counter seeded randomly each millisecond (RFC 9562 §6.2,
// method 1); the remaining 62 bits are random. Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace artistsaid {

class Uuid {
public:
    Uuid() = default;
    explicit Uuid(const std::array<uint8_t, 16>& bytes) : bytes_(bytes) {}

    /// A new UUIDv7, later than every id this process made before.
    static Uuid v7();
    /// Parses the canonical 8-4-4-4-12 hex form (either case); nullopt if malformed.
    static std::optional<Uuid> parse(std::string_view text);

    /// Canonical lower-case text form, 36 characters.
    std::string to_string() const;
    /// Milliseconds since the Unix epoch encoded in a v7 id.
    uint64_t unix_ms() const;
    int version() const { return bytes_[6] >> 4; }
    const std::array<uint8_t, 16>& bytes() const { return bytes_; }

    auto operator<=>(const Uuid&) const = default;

private:
    std::array<uint8_t, 16> bytes_{};
};

/// Shorthand for Uuid::v7().to_string().
std::string new_id();

}  // namespace artistsaid
