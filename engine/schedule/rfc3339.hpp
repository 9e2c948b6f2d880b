// Instants as text: RFC 3339 parsing for `--now`, and the UTC and zone-local forms the tick
// prints and uses in dedupe keys.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "engine/schedule/time_zone.hpp"

namespace artistsaid::schedule {

/// Parses an RFC 3339 date-time: "2026-03-29T01:00:00Z", "2026-03-29T03:00:00+02:00",
/// lower-case 't'/'z' or a space instead of 'T', optional fractional seconds (dropped:
/// slots are whole minutes). Throws InputError (exit 2) naming what was expected.
std::chrono::sys_seconds parse_rfc3339(std::string_view text);

/// "2026-03-29T01:00:00Z".
std::string format_utc(std::chrono::sys_seconds t);

/// The wall clock of `zone` with its offset: "2026-03-29T03:00:00+02:00".
std::string format_local(std::chrono::sys_seconds t, const TimeZone& zone);

}  // namespace artistsaid::schedule
