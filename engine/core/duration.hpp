// Durations as admins write them in YAML and flags: "250ms", "30s", "10m", "2h", "1d",
// and combinations such as "1h30m". Integer milliseconds; no floating point.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace artistsaid {

/// Parses a duration; throws InputError naming the text and the accepted units.
std::chrono::milliseconds parse_duration(std::string_view text);

/// The shortest exact text for a duration ("90s" → "1m30s", 0 → "0s").
std::string format_duration(std::chrono::milliseconds d);

}  // namespace artistsaid
