// TaxCalculator: which rates apply to a client, and the tax of one invoice line.
//
// Which rates: for each level (1, 2), the rate valid on the date whose country matches and
// whose region matches the client's region — a region's own rate replaces the country-wide
// one of the same level (US states, Canadian provinces). Exempt clients and non-taxable
// services get no rates at all.
//
// Tax of a line, rounded per line and per rate by the configured mode (half-up default):
//   exclusive prices (the amount is net):
//     t1 = round(net * r1);  t2 = round((net + (compound2 ? t1 : 0)) * r2);  gross = net+t1+t2
//   inclusive prices (the amount is gross, what the client pays; a line is inclusive when
//   its level-1 rate is):
//     not compound: t_i = round(gross * r_i / (1 + r1 + r2)); net = gross - t1 - t2
//     compound:     t2 = round(gross * r2 / (1 + r2)); t1 = round((gross - t2) * r1 / (1 + r1))
//   so net + taxes == gross exactly, whatever the rounding. An invoice stores the net as
//   the line's amount and one `tax` line per rate with the sum of the lines' taxes.
// The billing step computes the same thing in SQL (billing_line_tax() in 0007_billing.sql);
// an integration test checks that both agree.
//
// Thread-safety: immutable after construction.
#pragma once

#include <vector>

#include "engine/core/money.hpp"
#include "plugins/billing/rounding_mode.hpp"
#include "plugins/billing/tax_rate.hpp"

namespace artistsaid::billing {

struct LineTax {
    Money net;
    Money gross;
    struct Part {
        std::int64_t rate_id = 0;
        Money amount;
    };
    std::vector<Part> taxes;  // level order; only rates that apply
    Money total_tax() const;
};

class TaxCalculator {
public:
    explicit TaxCalculator(std::vector<TaxRate> rates, RoundingMode mode = RoundingMode::kHalfUp);

    /// The rates for a client in (country, region) on `date`, level 1 first (at most one per
    /// level). Empty when `exempt`.
    std::vector<TaxRate> applicable(const std::string& country,
                                    const std::optional<std::string>& region, Date date,
                                    bool exempt = false) const;

    /// The tax of a line of `amount` (net if exclusive, gross if inclusive) under `rates`
    /// (from applicable()). With no rates: net = gross = amount.
    LineTax line_tax(const Money& amount, const std::vector<TaxRate>& rates) const;

    RoundingMode rounding() const noexcept { return mode_; }

private:
    std::vector<TaxRate> rates_;
    RoundingMode mode_;
};

}  // namespace artistsaid::billing
