// CreditNoteSplit: how much of a credit note against an invoice is tax.
//
// A credit note of `amount` (tax included) against an invoice of `total` with `tax` carries
// the invoice's tax in proportion, computed on the running total of what was credited so
// far, not on each note alone:
//     tax(note) = round(tax * (before + amount) / total) - round(tax * before / total)
// so credit notes that together credit the whole invoice (two partial refunds, then the
// rest) carry exactly the invoice's tax and subtotal, whatever the rounding of each one.
#pragma once

#include <cstdint>

#include "plugins/billing/rounding_mode.hpp"

namespace artistsaid::billing {

struct CreditNoteSplit {
    std::int64_t subtotal = 0;
    std::int64_t tax = 0;
    std::int64_t total() const noexcept { return subtotal + tax; }
};

/// The split of a credit note of `amount` after `credited_before` was credited on an invoice
/// of `invoice_total` (of which `invoice_tax` is tax). InputError unless amount > 0,
/// 0 <= invoice_tax <= invoice_total, credited_before >= 0 and
/// credited_before + amount <= invoice_total (nothing is credited beyond the invoice).
CreditNoteSplit split_credit_note(std::int64_t invoice_total, std::int64_t invoice_tax,
                                  std::int64_t credited_before, std::int64_t amount,
                                  RoundingMode mode = RoundingMode::kHalfUp);

}  // namespace artistsaid::billing
