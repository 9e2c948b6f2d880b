#include "gateways/stripe/stripe_amount.hpp"

#include <array>
#include <string_view>

#include "engine/core/error.hpp"

namespace artistsaid::gateways {
namespace {

constexpr std::array<std::string_view, 16> kZeroDecimal{"BIF", "CLP", "DJF", "GNF", "JPY", "KMF",
                                                       "KRW", "MGA", "PYG", "RWF", "UGX", "VND",
                                                       "VUV", "XAF", "XOF", "XPF"};
constexpr std::array<std::string_view, 5> kThreeDecimal{"BHD", "JOD", "KWD", "OMR", "TND"};

template <std::size_t N>
bool listed(const std::array<std::string_view, N>& list, std::string_view code) {
    for (auto c : list) {
        if (c == code) return true;
    }
    return false;
}

std::int64_t power_of_ten(int n) {
    std::int64_t p = 1;
    for (int i = 0; i < n; ++i) p *= 10;
    return p;
}

}  // namespace

int StripeAmount::exponent(Currency currency) noexcept {
    auto code = currency.code();
    if (listed(kZeroDecimal, code)) return 0;
    if (listed(kThreeDecimal, code)) return 3;
    if (code == "ISK") return 2;
    return currency.exponent();
}

std::int64_t StripeAmount::to_stripe(const Money& money) {
    const Currency currency = money.currency();
    const int diff = exponent(currency) - currency.exponent();
    std::int64_t amount = money.minor_units();
    if (diff > 0) {
        Money scaled = money * power_of_ten(diff);  // checked: overflow throws
        amount = scaled.minor_units();
    } else if (diff < 0) {
        std::int64_t unit = power_of_ten(-diff);
        if (amount % unit != 0) {
            throw InputError("Stripe charges " + std::string(currency.code()) +
                             " in whole units; " + money.to_string() + " has a fraction");
        }
        amount /= unit;
    }
    if (listed(kThreeDecimal, currency.code()) && amount % 10 != 0) {
        throw InputError("Stripe needs " + std::string(currency.code()) +
                         " amounts in multiples of 0.010; " + money.to_string() + " is not");
    }
    return amount;
}

Money StripeAmount::from_stripe(std::int64_t amount, Currency currency) {
    const int diff = exponent(currency) - currency.exponent();
    if (diff > 0) {
        std::int64_t unit = power_of_ten(diff);
        if (amount % unit != 0) {
            throw InputError("Stripe amount " + std::to_string(amount) + " " +
                             std::string(currency.code()) + " has no exact ISO 4217 value");
        }
        return Money(amount / unit, currency);
    }
    return Money(amount, currency) * power_of_ten(-diff);
}

std::string StripeAmount::code(Currency currency) {
    std::string code(currency.code());
    for (char& c : code) c = static_cast<char>(c - 'A' + 'a');
    return code;
}

}  // namespace artistsaid::gateways
