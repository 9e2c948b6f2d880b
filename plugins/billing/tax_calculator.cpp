#include "plugins/billing/tax_calculator.hpp"

#include "engine/core/error.hpp"

namespace artistsaid::billing {

Money LineTax::total_tax() const {
    Money sum = Money::zero(net.currency());
    for (const auto& t : taxes) sum += t.amount;
    return sum;
}

TaxCalculator::TaxCalculator(std::vector<TaxRate> rates, RoundingMode mode)
    : rates_(std::move(rates)), mode_(mode) {
    for (const auto& r : rates_) {
        if (r.level != 1 && r.level != 2)
            throw InputError("tax rate '" + r.name + "' has level " + std::to_string(r.level) +
                             " (1 or 2)");
        if (r.rate_ppm < 0 || r.rate_ppm > 1'000'000)
            throw InputError("tax rate '" + r.name + "' is outside 0–100%");
    }
}

std::vector<TaxRate> TaxCalculator::applicable(const std::string& country,
                                               const std::optional<std::string>& region,
                                               Date date, bool exempt) const {
    std::vector<TaxRate> out;
    if (exempt) return out;
    for (int level = 1; level <= 2; ++level) {
        const TaxRate* best = nullptr;
        for (const auto& r : rates_) {
            if (r.level != level || r.country != country) continue;
            if (date < r.valid_from || (r.valid_to && date >= *r.valid_to)) continue;
            if (r.region && (!region || *r.region != *region)) continue;
            // A region's own rate beats the country-wide one; among equals the latest start.
            if (best == nullptr || (r.region && !best->region) ||
                (r.region.has_value() == best->region.has_value() &&
                 r.valid_from > best->valid_from))
                best = &r;
        }
        if (best != nullptr) out.push_back(*best);
    }
    return out;
}

LineTax TaxCalculator::line_tax(const Money& amount, const std::vector<TaxRate>& rates) const {
    const Currency cur = amount.currency();
    LineTax out{amount, amount, {}};
    if (rates.empty()) return out;
    const TaxRate* r1 = nullptr;
    const TaxRate* r2 = nullptr;
    for (const auto& r : rates) (r.level == 1 ? r1 : r2) = &r;
    const std::int64_t a = amount.minor_units();
    const Int128 million = 1'000'000;
    std::int64_t t1 = 0, t2 = 0;
    const bool inclusive = (r1 != nullptr ? r1 : r2)->inclusive;
    const bool compound = r2 != nullptr && r2->compound && r1 != nullptr;
    const std::int64_t p1 = r1 ? r1->rate_ppm : 0;
    const std::int64_t p2 = r2 ? r2->rate_ppm : 0;
    if (!inclusive) {
        t1 = apply_ppm(a, p1, mode_);
        t2 = apply_ppm(compound ? a + t1 : a, p2, mode_);
        out.net = amount;
        out.gross = Money(a + t1 + t2, cur);
    } else if (compound) {
        t2 = divide_rounded(static_cast<Int128>(a) * p2, million + p2, mode_);
        t1 = divide_rounded(static_cast<Int128>(a - t2) * p1, million + p1, mode_);
        out.gross = amount;
        out.net = Money(a - t1 - t2, cur);
    } else {
        t1 = divide_rounded(static_cast<Int128>(a) * p1, million + p1 + p2, mode_);
        t2 = divide_rounded(static_cast<Int128>(a) * p2, million + p1 + p2, mode_);
        out.gross = amount;
        out.net = Money(a - t1 - t2, cur);
    }
    if (r1) out.taxes.push_back({r1->id, Money(t1, cur)});
    if (r2) out.taxes.push_back({r2->id, Money(t2, cur)});
    return out;
}

}  // namespace artistsaid::billing
