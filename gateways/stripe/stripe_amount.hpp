// StripeAmount: Money to and from the integer `amount` Stripe expects for each currency.
#pragma once

#include <cstdint>

#include "engine/core/money.hpp"

namespace artistsaid::gateways {

/// Stripe counts amounts in its own "smallest unit" per currency, which is not always ISO
/// 4217's minor unit:
///   zero-decimal (BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF): whole
///     units — MGA, two decimals in ISO, must then be whole;
///   three-decimal (BHD JOD KWD OMR TND): thousandths, and the last digit must be 0
///     (KWD 1.250 is sent as 1250; 1.255 cannot be charged);
///   ISK: two decimals at Stripe, none in ISO (100 ISK is sent as 10000);
///   every other currency: ISO minor units.
/// Thread-safety: stateless.
class StripeAmount {
public:
    /// Stripe's decimals for this currency.
    static int exponent(Currency currency) noexcept;
    /// The `amount` parameter for `money`. Throws InputError when Stripe cannot represent it
    /// (a fraction of a zero-decimal unit, a three-decimal amount not a multiple of 10).
    static std::int64_t to_stripe(const Money& money);
    /// Stripe's `amount` back as Money. Throws InputError if it has no exact ISO value.
    static Money from_stripe(std::int64_t amount, Currency currency);
    /// Stripe's lower-case currency code ("jpy").
    static std::string code(Currency currency);
};

}  // namespace artistsaid::gateways
