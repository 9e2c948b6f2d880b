#include "plugins/billing/commission_split.hpp"

#include <string>

#include "engine/core/error.hpp"

namespace artistsaid::billing {

CommissionSplit::CommissionSplit(std::int64_t platform_ppm, std::int64_t affiliate_ppm)
    : platform_ppm_(platform_ppm), affiliate_ppm_(affiliate_ppm) {
    if (platform_ppm < 0 || platform_ppm > 1'000'000 || affiliate_ppm < 0 ||
        affiliate_ppm > 1'000'000 || platform_ppm + affiliate_ppm > 1'000'000)
        throw InputError("commission rates must be between 0 and 100% and add up to at most "
                         "100% (platform " + std::to_string(platform_ppm) + " ppm, affiliate " +
                         std::to_string(affiliate_ppm) + " ppm)");
}

CommissionShares CommissionSplit::split(const Money& gross, bool has_affiliate) const {
    if (gross.is_negative()) throw InputError("cannot split a negative amount " + gross.to_string());
    const std::int64_t affiliate = has_affiliate ? affiliate_ppm_ : 0;
    const std::int64_t platform = has_affiliate ? platform_ppm_ : platform_ppm_ + affiliate_ppm_;
    const std::int64_t provider = 1'000'000 - platform_ppm_ - affiliate_ppm_;
    if (gross.is_zero()) return {gross, gross, gross};
    auto parts = gross.allocate({platform, affiliate, provider});
    return {parts[0], parts[1], parts[2]};
}

}  // namespace artistsaid::billing
