#include "plugins/billing/rounding_mode.hpp"

#include <limits>
#include <string>

#include "engine/core/error.hpp"

namespace artistsaid::billing {

std::string_view to_string(RoundingMode mode) noexcept {
    switch (mode) {
        case RoundingMode::kHalfUp: return "half_up";
        case RoundingMode::kHalfEven: return "half_even";
        case RoundingMode::kHalfDown: return "half_down";
        case RoundingMode::kUp: return "up";
        case RoundingMode::kDown: return "down";
    }
    return "half_up";
}

std::optional<RoundingMode> parse_rounding_mode(std::string_view text) noexcept {
    for (auto m : {RoundingMode::kHalfUp, RoundingMode::kHalfEven, RoundingMode::kHalfDown,
                   RoundingMode::kUp, RoundingMode::kDown})
        if (to_string(m) == text) return m;
    return std::nullopt;
}

RoundingMode rounding_mode_or_throw(std::string_view text) {
    if (auto m = parse_rounding_mode(text)) return *m;
    throw InputError("rounding mode '" + std::string(text) +
                     "' is not one of half_up, half_even, half_down, up, down");
}

std::int64_t divide_rounded(Int128 numerator, Int128 denominator, RoundingMode mode) {
    if (denominator == 0) throw InputError("division by zero while rounding an amount");
    if (denominator < 0) {
        numerator = -numerator;
        denominator = -denominator;
    }
    const bool negative = numerator < 0;
    const Int128 magnitude = negative ? -numerator : numerator;
    Int128 quotient = magnitude / denominator;
    const Int128 remainder = magnitude % denominator;
    if (remainder != 0) {
        const Int128 twice = remainder * 2;  // remainder < denominator: no overflow in range
        bool away = false;
        switch (mode) {
            case RoundingMode::kHalfUp: away = twice >= denominator; break;
            case RoundingMode::kHalfDown: away = twice > denominator; break;
            case RoundingMode::kHalfEven:
                away = twice > denominator || (twice == denominator && quotient % 2 == 1);
                break;
            case RoundingMode::kUp: away = true; break;
            case RoundingMode::kDown: away = false; break;
        }
        if (away) ++quotient;
    }
    const Int128 result = negative ? -quotient : quotient;
    if (result > std::numeric_limits<std::int64_t>::max() ||
        result < std::numeric_limits<std::int64_t>::min())
        throw WorkError("amount out of range after rounding", ErrorCode::kOverflow);
    return static_cast<std::int64_t>(result);
}

std::int64_t apply_ppm(std::int64_t amount, std::int64_t ppm, RoundingMode mode) {
    return divide_rounded(static_cast<Int128>(amount) * ppm, 1'000'000, mode);
}

}  // namespace artistsaid::billing
