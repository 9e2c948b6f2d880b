// CommissionSplit: a marketplace sale or booking divided into the platform's commission,
// the referring affiliate's commission and the provider's share, by the largest-remainder
// method (Money::allocate) over the three rates, so the shares always add up to the gross
// exactly and each is within one minor unit of its exact share.
//
// Thread-safety: an immutable value.
#pragma once

#include <cstdint>

#include "engine/core/money.hpp"

namespace artistsaid::billing {

struct CommissionShares {
    Money platform;
    Money affiliate;
    Money provider;
};

class CommissionSplit {
public:
    /// Rates in ppm of the gross; InputError unless each is in 0..1,000,000 and
    /// platform + affiliate <= 1,000,000 (the provider gets the rest).
    CommissionSplit(std::int64_t platform_ppm, std::int64_t affiliate_ppm);

    /// The split of `gross` (>= 0). Without an affiliate, its share goes to the platform.
    CommissionShares split(const Money& gross, bool has_affiliate) const;

private:
    std::int64_t platform_ppm_;
    std::int64_t affiliate_ppm_;
};

}  // namespace artistsaid::billing
