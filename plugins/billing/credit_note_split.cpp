#include "plugins/billing/credit_note_split.hpp"

#include <string>

#include "engine/core/error.hpp"

namespace artistsaid::billing {

CreditNoteSplit split_credit_note(std::int64_t invoice_total, std::int64_t invoice_tax,
                                  std::int64_t credited_before, std::int64_t amount,
                                  RoundingMode mode) {
    if (amount <= 0) throw InputError("a credit note amount must be positive");
    if (invoice_tax < 0 || invoice_tax > invoice_total)
        throw InputError("an invoice's tax must be between 0 and its total");
    if (credited_before < 0 || credited_before > invoice_total - amount)
        throw InputError("a credit note of " + std::to_string(amount) + " after " +
                         std::to_string(credited_before) + " credited exceeds the invoice total " +
                         std::to_string(invoice_total));
    const auto tax_of = [&](std::int64_t credited) {
        return divide_rounded(static_cast<Int128>(invoice_tax) * credited, invoice_total, mode);
    };
    CreditNoteSplit split;
    split.tax = tax_of(credited_before + amount) - tax_of(credited_before);
    split.subtotal = amount - split.tax;
    return split;
}

}  // namespace artistsaid::billing
