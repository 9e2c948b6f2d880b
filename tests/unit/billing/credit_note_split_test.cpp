#include "plugins/billing/credit_note_split.hpp"

#include <doctest/doctest.h>

#include "engine/core/error.hpp"

using namespace artistsaid;
using namespace artistsaid::billing;

TEST_CASE("Billing.CreditNoteSplit.FullCreditCarriesTheInvoiceTax") {
    // 119.00 = 100.00 + 19.00 VAT.
    auto all = split_credit_note(11900, 1900, 0, 11900);
    CHECK(all.tax == 1900);
    CHECK(all.subtotal == 10000);
}

TEST_CASE("Billing.CreditNoteSplit.PartsAddUpToTheInvoiceExactly") {
    // 10.00 + 1.90 tax refunded in three parts of 3.97, 3.97, 3.96: each alone would round
    // 0.6339 -> 0.63 three times (1.89); on the running total the parts carry 0.63, 0.64, 0.63.
    auto a = split_credit_note(1190, 190, 0, 397);
    auto b = split_credit_note(1190, 190, 397, 397);
    auto c = split_credit_note(1190, 190, 794, 396);
    CHECK(a.tax == 63);  // round(190 * 397 / 1190) = round(63.38) = 63
    CHECK(b.tax == 64);  // round(190 * 794 / 1190) = 127 (126.77) - 63
    CHECK(c.tax == 63);  // 190 - 127
    CHECK(a.tax + b.tax + c.tax == 190);
    CHECK(a.subtotal + b.subtotal + c.subtotal == 1000);
    CHECK(a.total() == 397);
}

TEST_CASE("Billing.CreditNoteSplit.UntaxedInvoiceAndRoundingModes") {
    CHECK(split_credit_note(5000, 0, 1000, 2500).tax == 0);
    // 1 of 3 units of an invoice of 3 with 1 tax: 1/3 -> 0 (half_up), 1 (up).
    CHECK(split_credit_note(3, 1, 0, 1).tax == 0);
    CHECK(split_credit_note(3, 1, 0, 1, RoundingMode::kUp).tax == 1);
}

TEST_CASE("Billing.CreditNoteSplit.RefusesMoreThanTheInvoice") {
    CHECK_THROWS_AS(split_credit_note(1000, 100, 600, 401), InputError);
    CHECK_THROWS_AS(split_credit_note(1000, 100, 0, 0), InputError);
    CHECK_THROWS_AS(split_credit_note(1000, 100, -1, 10), InputError);
    CHECK_THROWS_AS(split_credit_note(1000, 1001, 0, 10), InputError);
    CHECK_NOTHROW(split_credit_note(1000, 100, 600, 400));
}
