// Money: an exact amount of one currency, counted in that currency's minor units.
#pragma once

#include <compare>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/currency.hpp"

namespace artistsaid {

/// An exact amount of money: a signed 64-bit count of minor units (cents, fils, yen) of one
/// currency. 1234 minor units of USD is "12.34 USD"; 1234 of JPY is "1234 JPY".
///
/// What for: every amount the engine bills, charges, refunds or splits. There is no floating
/// point anywhere, so 0.10 + 0.20 is exactly 0.30 and an invoice's lines add up to its total.
///
/// Thread-safety: an immutable value (an int64 and a Currency); copies may be read from any
/// thread without synchronisation.
///
/// Guarantee: every result is exact, or an exception says why not; a value is never rounded
/// or wrapped silently.
///   - Leaving the int64 range (+, -, *, unary -, parse) throws WorkError(kOverflow).
///   - Adding, subtracting or ordering two currencies throws InputError(kCurrencyMismatch).
///     Equality is defined across currencies: 10.00 USD != 10.00 EUR.
///   - parse() refuses more decimals than the currency has instead of rounding them away.
///   - allocate() and split() return parts that sum exactly to the whole.
class Money {
public:
    Money(std::int64_t minor_units, Currency currency) noexcept
        : minor_units_(minor_units), currency_(currency) {}

    static Money zero(Currency currency) noexcept { return Money(0, currency); }

    /// Reads a decimal amount of `currency`: an optional sign, digits, and optionally a '.'
    /// followed by 1 to exponent() digits ("12.34", "-0.5", "1000", "0.001" for BHD).
    /// Throws InputError for anything else (empty, "1,000", "1e3", " 1", "12.", ".5", "--1",
    /// more decimals than the currency has) and WorkError(kOverflow) if the amount does not
    /// fit in int64 minor units. parse(m.format_amount(), m.currency()) == m for every m.
    static Money parse(std::string_view text, Currency currency);

    /// Reads an amount with its currency code, either "12.34 USD" or "USD 12.34" (one space).
    /// Throws InputError for an unknown code or a malformed amount, as above.
    static Money parse(std::string_view text);

    std::int64_t minor_units() const noexcept { return minor_units_; }
    Currency currency() const noexcept { return currency_; }

    bool is_zero() const noexcept { return minor_units_ == 0; }
    bool is_negative() const noexcept { return minor_units_ < 0; }

    /// The amount with exactly exponent() decimals and no code: "12.34", "-0.05", "1000" (JPY).
    std::string format_amount() const;

    /// The amount followed by the code: "12.34 USD". parse(to_string()) gives back *this.
    std::string to_string() const;

    /// Splits the amount into weights.size() parts proportional to the weights by the
    /// largest-remainder method: part i gets floor(|amount| * w_i / W) minor units, where W is
    /// the sum of the weights, and the minor units left over go one each to the parts with the
    /// largest remainders (ties to the earlier part). A negative amount is split as its
    /// magnitude and negated, so allocate(-m) == -allocate(m) part by part.
    ///
    /// The parts sum exactly to *this and each is within one minor unit of its exact share;
    /// a zero weight gets zero. Throws InputError if the weights are empty, any is negative,
    /// or all are zero. Never overflows: intermediates are 128-bit.
    std::vector<Money> allocate(std::span<const std::int64_t> weights) const;
    std::vector<Money> allocate(std::initializer_list<std::int64_t> weights) const;

    /// allocate() into `parts` equal weights: 1.00 split 3 ways is 0.34, 0.33, 0.33.
    /// Throws InputError if parts < 1.
    std::vector<Money> split(int parts) const;

    Money operator-() const;
    Money& operator+=(const Money& other);
    Money& operator-=(const Money& other);
    Money& operator*=(std::int64_t factor);

    friend Money operator+(Money a, const Money& b) { return a += b; }
    friend Money operator-(Money a, const Money& b) { return a -= b; }
    friend Money operator*(Money a, std::int64_t factor) { return a *= factor; }
    friend Money operator*(std::int64_t factor, Money a) { return a *= factor; }

    /// Same amount and same currency.
    friend bool operator==(const Money&, const Money&) noexcept = default;
    /// Orders amounts of one currency; throws InputError(kCurrencyMismatch) across currencies.
    friend std::strong_ordering operator<=>(const Money& a, const Money& b);

private:
    std::int64_t minor_units_;
    Currency currency_;
};

}  // namespace artistsaid
