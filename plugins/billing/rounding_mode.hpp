// RoundingMode: how a division of minor units that does not come out even is rounded.
// Used for tax per line, proration and percentage late fees. The default is half-up
// (half away from zero), the rule most tax authorities publish for per-line rounding;
// half-even (banker's), half-down, up (away from zero) and down (toward zero, truncation)
// are configurable. The SQL function billing_round_div() in migrations/0007_billing.sql
// implements the same modes exactly (numeric, never floating point).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace artistsaid::billing {

/// A signed 128-bit integer for exact intermediates (GCC/Clang extension).
__extension__ typedef __int128 Int128;

enum class RoundingMode { kHalfUp, kHalfEven, kHalfDown, kUp, kDown };

/// "half_up", "half_even", "half_down", "up", "down".
std::string_view to_string(RoundingMode mode) noexcept;
std::optional<RoundingMode> parse_rounding_mode(std::string_view text) noexcept;
/// parse_rounding_mode() or InputError listing the choices.
RoundingMode rounding_mode_or_throw(std::string_view text);

/// numerator / denominator rounded to an integer by `mode`. Exact (128-bit intermediates);
/// throws InputError if denominator is 0 and WorkError(kOverflow) if the result leaves int64.
std::int64_t divide_rounded(Int128 numerator, Int128 denominator, RoundingMode mode);

/// amount * ppm / 1,000,000 rounded by `mode`: a rate in parts per million of an amount.
std::int64_t apply_ppm(std::int64_t amount, std::int64_t ppm, RoundingMode mode);

}  // namespace artistsaid::billing
