#include "engine/core/money.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

#include "engine/core/error.hpp"

namespace artistsaid {
namespace detail {
namespace {

// |amount| * weight needs up to 127 bits; GCC and Clang provide the type as an extension
// (`__extension__` keeps -Wpedantic quiet about it).
__extension__ typedef unsigned __int128 UInt128;

// The magnitude of an int64 as uint64; exact for INT64_MIN too (2^63).
std::uint64_t magnitude(std::int64_t value) noexcept {
    return value < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(value)
                     : static_cast<std::uint64_t>(value);
}

// Back from a magnitude to an int64; the caller has checked that the result is in range.
// Unsigned-to-signed conversion is modular in C++20, so 2^63 becomes INT64_MIN.
std::int64_t with_sign(std::uint64_t magnitude, bool negative) noexcept {
    return static_cast<std::int64_t>(negative ? std::uint64_t{0} - magnitude : magnitude);
}

// 10^exponent; the currency table guarantees exponent <= 18, so it fits in 64 bits.
std::uint64_t power_of_ten(int exponent) noexcept {
    std::uint64_t result = 1;
    for (int i = 0; i < exponent; ++i) {
        result *= 10;
    }
    return result;
}

bool is_digits(std::string_view text) noexcept {
    return !text.empty() &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_letter(char c) noexcept { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

// Text from users' files goes into messages: keep it short and printable.
std::string quote(std::string_view text) {
    constexpr std::size_t kMaxShown = 40;
    std::string out = "\"";
    for (char c : text.substr(0, kMaxShown)) {
        out += (c >= 0x20 && c < 0x7F) ? c : '?';
    }
    if (text.size() > kMaxShown) {
        out += "...";
    }
    out += '"';
    return out;
}

// What a valid amount of this currency looks like, for error messages: "-1234.56".
std::string example_amount(Currency currency) {
    std::string example = "-1234";
    if (currency.exponent() > 0) {
        example += '.';
        const auto decimals = static_cast<std::size_t>(currency.exponent());
        example += std::string_view("56789012345678901234").substr(0, decimals);
    }
    return example;
}

[[noreturn]] void throw_mismatch(std::string_view action, const Money& a, const Money& b) {
    throw InputError("cannot " + std::string(action) + " " + a.to_string() + " and " +
                         b.to_string() + ": the currencies differ (" +
                         std::string(a.currency().code()) + " vs " +
                         std::string(b.currency().code()) + ")",
                     ErrorCode::kCurrencyMismatch);
}

[[noreturn]] void throw_overflow(const std::string& expression, Currency currency) {
    throw WorkError(expression + " overflows: the result leaves the range of " +
                        Money(std::numeric_limits<std::int64_t>::min(), currency).to_string() +
                        " to " +
                        Money(std::numeric_limits<std::int64_t>::max(), currency).to_string(),
                    ErrorCode::kOverflow);
}

}  // namespace
}  // namespace detail

Money Money::parse(std::string_view text, Currency currency) {
    const int exponent = currency.exponent();
    const std::string code(currency.code());

    std::string_view rest = text;
    bool negative = false;
    if (!rest.empty() && (rest.front() == '-' || rest.front() == '+')) {
        negative = rest.front() == '-';
        rest.remove_prefix(1);
    }
    const std::size_t dot = rest.find('.');
    const std::string_view whole = rest.substr(0, dot);
    const bool has_dot = dot != std::string_view::npos;
    const std::string_view fraction = has_dot ? rest.substr(dot + 1) : std::string_view();
    if (!detail::is_digits(whole) || (has_dot && !detail::is_digits(fraction))) {
        const std::string decimals =
            exponent == 0 ? "no decimals"
                          : "at most " + std::to_string(exponent) + " decimals after a '.'";
        throw InputError("invalid amount " + detail::quote(text) + " for " + code +
                         ": expected an optional sign, digits and " + decimals + ", like \"" +
                         detail::example_amount(currency) + "\"");
    }
    if (fraction.size() > static_cast<std::size_t>(exponent)) {
        throw InputError("invalid amount " + detail::quote(text) + " for " + code +
                         ": too many decimals (" + std::to_string(fraction.size()) + " given, " +
                         code + " has " + std::to_string(exponent) + "); refusing to round");
    }

    // Accumulate the digits as a count of minor units: "12.3" in USD is 12, 3, then one
    // padding zero, i.e. 1230.
    std::uint64_t units = 0;
    bool overflow = false;
    const auto push_digit = [&](char digit) {
        overflow = overflow || __builtin_mul_overflow(units, std::uint64_t{10}, &units) ||
                   __builtin_add_overflow(units, static_cast<std::uint64_t>(digit - '0'), &units);
    };
    for (char digit : whole) {
        push_digit(digit);
    }
    for (char digit : fraction) {
        push_digit(digit);
    }
    for (std::size_t i = fraction.size(); i < static_cast<std::size_t>(exponent); ++i) {
        push_digit('0');
    }
    const std::uint64_t limit =
        static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + (negative ? 1 : 0);
    if (overflow || units > limit) {
        throw WorkError("amount " + detail::quote(text) + " " + code +
                            " is out of range: amounts of " + code + " must lie between " +
                            Money(std::numeric_limits<std::int64_t>::min(), currency)
                                .format_amount() +
                            " and " +
                            Money(std::numeric_limits<std::int64_t>::max(), currency)
                                .format_amount(),
                        ErrorCode::kOverflow);
    }
    return Money(detail::with_sign(units, negative), currency);
}

Money Money::parse(std::string_view text) {
    const std::size_t space = text.find(' ');
    if (space == std::string_view::npos || text.find(' ', space + 1) != std::string_view::npos) {
        throw InputError("invalid money " + detail::quote(text) +
                         ": expected an amount and a currency code separated by one space, "
                         "like \"12.34 USD\" or \"USD 12.34\"");
    }
    const std::string_view left = text.substr(0, space);
    const std::string_view right = text.substr(space + 1);
    // An amount never starts with a letter, so a leading letter means "USD 12.34".
    const bool code_first = !left.empty() && detail::is_letter(left.front());
    const Currency currency = Currency::from_code(code_first ? left : right);
    return parse(code_first ? right : left, currency);
}

std::string Money::format_amount() const {
    const int exponent = currency_.exponent();
    const std::uint64_t scale = detail::power_of_ten(exponent);
    const std::uint64_t units = detail::magnitude(minor_units_);

    std::string out = minor_units_ < 0 ? "-" : "";
    out += std::to_string(units / scale);
    if (exponent > 0) {
        const std::string fraction = std::to_string(units % scale);
        out += '.';
        out.append(static_cast<std::size_t>(exponent) - fraction.size(), '0');
        out += fraction;
    }
    return out;
}

std::string Money::to_string() const {
    std::string out = format_amount();
    out += ' ';
    out += currency_.code();
    return out;
}

std::vector<Money> Money::allocate(std::span<const std::int64_t> weights) const {
    if (weights.empty()) {
        throw InputError("cannot allocate " + to_string() + ": no weights given");
    }
    detail::UInt128 total = 0;
    for (std::size_t i = 0; i < weights.size(); ++i) {
        if (weights[i] < 0) {
            throw InputError("cannot allocate " + to_string() + ": weight " + std::to_string(i) +
                             " is negative (" + std::to_string(weights[i]) + ")");
        }
        total += static_cast<std::uint64_t>(weights[i]);
    }
    if (total == 0) {
        throw InputError("cannot allocate " + to_string() + ": all " +
                         std::to_string(weights.size()) + " weights are zero");
    }

    // Split the magnitude so that a negative amount is split exactly like a positive one.
    const std::uint64_t amount = detail::magnitude(minor_units_);
    std::vector<std::uint64_t> shares(weights.size());
    std::vector<detail::UInt128> remainders(weights.size());
    std::uint64_t allotted = 0;
    for (std::size_t i = 0; i < weights.size(); ++i) {
        const detail::UInt128 product =
            detail::UInt128{amount} * static_cast<std::uint64_t>(weights[i]);
        shares[i] = static_cast<std::uint64_t>(product / total);  // <= amount: w_i <= total
        remainders[i] = product % total;
        allotted += shares[i];  // the floors sum to at most amount, so no wrap
    }

    // The floors leave fewer than weights.size() minor units over (each remainder is below
    // total); hand them out by largest remainder, earlier index first on ties. Only parts
    // with a non-zero remainder can be chosen, so zero weights stay at zero.
    const std::uint64_t leftover = amount - allotted;
    if (leftover > 0) {
        std::vector<std::size_t> order(weights.size());
        std::iota(order.begin(), order.end(), std::size_t{0});
        const auto by_remainder = [&](std::size_t a, std::size_t b) {
            return remainders[a] != remainders[b] ? remainders[a] > remainders[b] : a < b;
        };
        const auto chosen = order.begin() + static_cast<std::ptrdiff_t>(leftover);
        std::partial_sort(order.begin(), chosen, order.end(), by_remainder);
        for (auto it = order.begin(); it != chosen; ++it) {
            ++shares[*it];
        }
    }

    std::vector<Money> parts;
    parts.reserve(weights.size());
    for (std::uint64_t share : shares) {
        parts.emplace_back(detail::with_sign(share, minor_units_ < 0), currency_);
    }
    return parts;
}

std::vector<Money> Money::allocate(std::initializer_list<std::int64_t> weights) const {
    return allocate(std::span<const std::int64_t>(weights.begin(), weights.size()));
}

std::vector<Money> Money::split(int parts) const {
    if (parts < 1) {
        throw InputError("cannot split " + to_string() + " into " + std::to_string(parts) +
                         " parts: need at least one");
    }
    const std::vector<std::int64_t> weights(static_cast<std::size_t>(parts), 1);
    return allocate(weights);
}

Money Money::operator-() const {
    if (minor_units_ == std::numeric_limits<std::int64_t>::min()) {
        detail::throw_overflow("-(" + to_string() + ")", currency_);
    }
    return Money(-minor_units_, currency_);
}

Money& Money::operator+=(const Money& other) {
    if (currency_ != other.currency_) {
        detail::throw_mismatch("add", *this, other);
    }
    std::int64_t result = 0;
    if (__builtin_add_overflow(minor_units_, other.minor_units_, &result)) {
        detail::throw_overflow(to_string() + " + " + other.to_string(), currency_);
    }
    minor_units_ = result;
    return *this;
}

Money& Money::operator-=(const Money& other) {
    if (currency_ != other.currency_) {
        detail::throw_mismatch("subtract", *this, other);
    }
    std::int64_t result = 0;
    if (__builtin_sub_overflow(minor_units_, other.minor_units_, &result)) {
        detail::throw_overflow(to_string() + " - " + other.to_string(), currency_);
    }
    minor_units_ = result;
    return *this;
}

Money& Money::operator*=(std::int64_t factor) {
    std::int64_t result = 0;
    if (__builtin_mul_overflow(minor_units_, factor, &result)) {
        detail::throw_overflow(to_string() + " * " + std::to_string(factor), currency_);
    }
    minor_units_ = result;
    return *this;
}

std::strong_ordering operator<=>(const Money& a, const Money& b) {
    if (a.currency_ != b.currency_) {
        detail::throw_mismatch("compare", a, b);
    }
    return a.minor_units_ <=> b.minor_units_;
}

}  // namespace artistsaid
