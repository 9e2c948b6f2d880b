// Currency: one active ISO 4217 currency, known by its alphabetic code and minor-unit exponent.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace artistsaid {

/// One currency of the active ISO 4217 list ("list one"): its three-letter code ("USD") and
/// its exponent, the number of decimal places of its minor unit (USD 2, JPY 0, BHD 3, CLF 4).
///
/// What for: Money counts minor units, and the exponent is what turns "12.34" into 1234 cents
/// and back. Every code with a defined minor unit is known, including fund codes (BOV, CHE,
/// CHW, CLF, COU, MXV, USN, UYI, UYW); units without one (XAU, XDR, XTS, XXX, ...) and
/// withdrawn codes (ANG, BGN, CUC, HRK, SLL, ZWL) are refused, because no amount can be
/// billed in them.
///
/// Thread-safety: an immutable two-byte handle into a constant table; copies may be used
/// from any thread without synchronisation.
///
/// Guarantee: a Currency always names a known currency; the only ways to get one are
/// from_code() and find(), which validate the code.
class Currency {
public:
    /// The currency with this exact code: three upper-case ASCII letters ("EUR", not "eur").
    /// Throws InputError naming the code if it is malformed or not an active ISO 4217 code.
    static Currency from_code(std::string_view code);

    /// Like from_code(), but an unknown or malformed code is std::nullopt instead of an error.
    static std::optional<Currency> find(std::string_view code) noexcept;

    /// Every known currency, ordered by code.
    static std::vector<Currency> all();

    /// The alphabetic ISO 4217 code, e.g. "USD". The view points into static storage.
    std::string_view code() const noexcept;

    /// Decimal places of the minor unit: 2 for USD (cents), 0 for JPY, 3 for KWD, 4 for CLF.
    int exponent() const noexcept;

    friend bool operator==(Currency, Currency) noexcept = default;
    /// Alphabetical by code, so a Currency can key a std::map.
    friend std::strong_ordering operator<=>(Currency, Currency) noexcept = default;

private:
    explicit Currency(std::uint16_t index) noexcept : index_(index) {}

    std::uint16_t index_;  // position in the sorted table in currency.cpp
};

}  // namespace artistsaid
