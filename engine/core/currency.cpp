#include "engine/core/currency.hpp"

#include <algorithm>
#include <array>
#include <string>

#include "engine/core/error.hpp"

namespace artistsaid {
namespace detail {
namespace {

struct CurrencyEntry {
    std::string_view code;
    int exponent;
};

// ISO 4217 list one as of 2026 (after amendment 180): every active code with a minor unit.
// Left out on purpose: units without a minor unit (XAG, XAU, XBA-XBD, XDR, XPD, XPT, XSU,
// XTS, XUA, XXX) and withdrawn codes (ANG -> XCG, BGN -> EUR, CUC, HRK -> EUR, SLL -> SLE,
// ZWL -> ZWG). Sorted by code so lookup is a binary search and Currency's order is the
// alphabetical one; the static_assert below keeps it that way.
constexpr auto kCurrencies = std::to_array<CurrencyEntry>({
    {"AED", 2}, {"AFN", 2}, {"ALL", 2}, {"AMD", 2}, {"AOA", 2}, {"ARS", 2}, {"AUD", 2}, {"AWG", 2},
    {"AZN", 2},
    {"BAM", 2}, {"BBD", 2}, {"BDT", 2}, {"BHD", 3}, {"BIF", 0}, {"BMD", 2}, {"BND", 2}, {"BOB", 2},
    {"BOV", 2}, {"BRL", 2}, {"BSD", 2}, {"BTN", 2}, {"BWP", 2}, {"BYN", 2}, {"BZD", 2},
    {"CAD", 2}, {"CDF", 2}, {"CHE", 2}, {"CHF", 2}, {"CHW", 2}, {"CLF", 4}, {"CLP", 0}, {"CNY", 2},
    {"COP", 2}, {"COU", 2}, {"CRC", 2}, {"CUP", 2}, {"CVE", 2}, {"CZK", 2},
    {"DJF", 0}, {"DKK", 2}, {"DOP", 2}, {"DZD", 2},
    {"EGP", 2}, {"ERN", 2}, {"ETB", 2}, {"EUR", 2},
    {"FJD", 2}, {"FKP", 2},
    {"GBP", 2}, {"GEL", 2}, {"GHS", 2}, {"GIP", 2}, {"GMD", 2}, {"GNF", 0}, {"GTQ", 2}, {"GYD", 2},
    {"HKD", 2}, {"HNL", 2}, {"HTG", 2}, {"HUF", 2},
    {"IDR", 2}, {"ILS", 2}, {"INR", 2}, {"IQD", 3}, {"IRR", 2}, {"ISK", 0},
    {"JMD", 2}, {"JOD", 3}, {"JPY", 0},
    {"KES", 2}, {"KGS", 2}, {"KHR", 2}, {"KMF", 0}, {"KPW", 2}, {"KRW", 0}, {"KWD", 3}, {"KYD", 2},
    {"KZT", 2},
    {"LAK", 2}, {"LBP", 2}, {"LKR", 2}, {"LRD", 2}, {"LSL", 2}, {"LYD", 3},
    {"MAD", 2}, {"MDL", 2}, {"MGA", 2}, {"MKD", 2}, {"MMK", 2}, {"MNT", 2}, {"MOP", 2}, {"MRU", 2},
    {"MUR", 2}, {"MVR", 2}, {"MWK", 2}, {"MXN", 2}, {"MXV", 2}, {"MYR", 2}, {"MZN", 2},
    {"NAD", 2}, {"NGN", 2}, {"NIO", 2}, {"NOK", 2}, {"NPR", 2}, {"NZD", 2},
    {"OMR", 3},
    {"PAB", 2}, {"PEN", 2}, {"PGK", 2}, {"PHP", 2}, {"PKR", 2}, {"PLN", 2}, {"PYG", 0},
    {"QAR", 2},
    {"RON", 2}, {"RSD", 2}, {"RUB", 2}, {"RWF", 0},
    {"SAR", 2}, {"SBD", 2}, {"SCR", 2}, {"SDG", 2}, {"SEK", 2}, {"SGD", 2}, {"SHP", 2}, {"SLE", 2},
    {"SOS", 2}, {"SRD", 2}, {"SSP", 2}, {"STN", 2}, {"SVC", 2}, {"SYP", 2}, {"SZL", 2},
    {"THB", 2}, {"TJS", 2}, {"TMT", 2}, {"TND", 3}, {"TOP", 2}, {"TRY", 2}, {"TTD", 2}, {"TWD", 2},
    {"TZS", 2},
    {"UAH", 2}, {"UGX", 0}, {"USD", 2}, {"USN", 2}, {"UYI", 0}, {"UYU", 2}, {"UYW", 4}, {"UZS", 2},
    {"VED", 2}, {"VES", 2}, {"VND", 0}, {"VUV", 0},
    {"WST", 2},
    {"XAD", 2}, {"XAF", 0}, {"XCD", 2}, {"XCG", 2}, {"XOF", 0}, {"XPF", 0},
    {"YER", 2},
    {"ZAR", 2}, {"ZMW", 2}, {"ZWG", 2},
});

constexpr bool is_well_formed_code(std::string_view code) {
    return code.size() == 3 &&
           std::all_of(code.begin(), code.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

constexpr bool is_valid_table() {
    for (std::size_t i = 0; i < kCurrencies.size(); ++i) {
        const CurrencyEntry& entry = kCurrencies[i];
        // Money computes 10^exponent in 64 bits, which holds up to 10^18.
        if (!is_well_formed_code(entry.code) || entry.exponent < 0 || entry.exponent > 18) {
            return false;
        }
        if (i > 0 && !(kCurrencies[i - 1].code < entry.code)) {
            return false;
        }
    }
    return true;
}

static_assert(is_valid_table(), "the currency table must hold well-formed codes in strict order");
static_assert(kCurrencies.size() <= 0xFFFF, "a Currency stores its index in 16 bits");

std::string quote_code(std::string_view code) {
    // Codes come from users' files: keep the message short and printable.
    constexpr std::size_t kMaxShown = 16;
    std::string out = "\"";
    for (char c : code.substr(0, kMaxShown)) {
        out += (c >= 0x20 && c < 0x7F) ? c : '?';
    }
    if (code.size() > kMaxShown) {
        out += "...";
    }
    out += '"';
    return out;
}

}  // namespace
}  // namespace detail

std::optional<Currency> Currency::find(std::string_view code) noexcept {
    if (!detail::is_well_formed_code(code)) {
        return std::nullopt;
    }
    auto it = std::lower_bound(
        detail::kCurrencies.begin(), detail::kCurrencies.end(), code,
        [](const detail::CurrencyEntry& entry, std::string_view key) { return entry.code < key; });
    if (it == detail::kCurrencies.end() || it->code != code) {
        return std::nullopt;
    }
    return Currency(static_cast<std::uint16_t>(it - detail::kCurrencies.begin()));
}

Currency Currency::from_code(std::string_view code) {
    if (!detail::is_well_formed_code(code)) {
        throw InputError("invalid currency code " + detail::quote_code(code) +
                         ": expected three upper-case letters (ISO 4217), e.g. \"USD\"");
    }
    if (std::optional<Currency> currency = find(code)) {
        return *currency;
    }
    throw InputError("unknown currency code " + detail::quote_code(code) +
                     ": not an active ISO 4217 currency");
}

std::vector<Currency> Currency::all() {
    std::vector<Currency> currencies;
    currencies.reserve(detail::kCurrencies.size());
    for (std::size_t i = 0; i < detail::kCurrencies.size(); ++i) {
        currencies.push_back(Currency(static_cast<std::uint16_t>(i)));
    }
    return currencies;
}

std::string_view Currency::code() const noexcept { return detail::kCurrencies[index_].code; }

int Currency::exponent() const noexcept { return detail::kCurrencies[index_].exponent; }

}  // namespace artistsaid
