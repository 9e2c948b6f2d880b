// ZoneRules: the data of one TZif file (RFC 8536) — transitions, local time types and the
// footer's POSIX TZ rule — and the questions TimeZone asks of it, on plain int64 seconds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/schedule/detail/posix_tz.hpp"

namespace artistsaid::schedule::detail {

/// A local time type of a TZif file: offset east of UTC, daylight flag, abbreviation.
struct LocalTimeType {
    int32_t offset = 0;
    bool is_dst = false;
    std::string abbreviation;
};

/// The offset and its names in effect at one instant. `abbreviation` points into the rules.
struct ZonePeriod {
    int32_t offset = 0;
    bool is_dst = false;
    std::string_view abbreviation;
};

/// A change of offset at `at` (UTC seconds): before it `before` applies, from it `after`.
struct OffsetChange {
    int64_t at = 0;
    int32_t before = 0;
    int32_t after = 0;
};

/// How a local time (seconds since 1970-01-01 on the local wall clock) maps to instants.
struct LocalResolution {
    enum class Kind { kUnique, kNonexistent, kAmbiguous };
    Kind kind = Kind::kUnique;
    int64_t first = 0;   // the instant; the first instant after a gap; the earlier of two
    int64_t second = 0;  // the later of two; otherwise equal to `first`
};

/// Immutable once built, so any number of threads may share one instance.
class ZoneRules {
public:
    ZoneRules(std::vector<int64_t> times, std::vector<uint8_t> type_indexes,
              std::vector<LocalTimeType> types, std::optional<PosixTz> footer);

    /// A zone with a single fixed offset and no transitions (UTC).
    static ZoneRules fixed(int32_t offset, std::string abbreviation);

    ZonePeriod period_at(int64_t t) const;

    /// Every change of offset with from <= at <= to, in order (changes of only the
    /// abbreviation or daylight flag are left out).
    std::vector<OffsetChange> changes_between(int64_t from, int64_t to) const;

    LocalResolution resolve_local(int64_t local) const;

    size_t transition_count() const noexcept { return times_.size(); }
    const std::optional<PosixTz>& footer() const noexcept { return footer_; }

private:
    std::vector<int64_t> times_;         // ascending
    std::vector<uint8_t> type_indexes_;  // one per time, into types_
    std::vector<LocalTimeType> types_;   // at least one
    std::optional<PosixTz> footer_;
};

/// The largest offset (either way) a TZif file may use here; RFC 8536 allows
/// -89999..93599 s (just under ±26 h), and every real zone stays within ±15 h.
constexpr int32_t kMaxOffset = 93'599;

/// Parses a TZif file (versions 1 to 4). Throws InputError (naming `name`) if the data is
/// not a well-formed TZif file or carries leap seconds (the "right/" zones).
ZoneRules parse_tzif(std::string_view name, std::string_view data);

}  // namespace artistsaid::schedule::detail
