#include "gateways/bank/iban.hpp"

#include <array>
#include <utility>

#include "engine/core/error.hpp"

namespace artistsaid::gateways {
namespace {

// Country → IBAN length, from the SWIFT IBAN registry.
constexpr std::array<std::pair<std::string_view, std::size_t>, 85> kLengths{{
    {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16},
    {"BG", 22}, {"BH", 22}, {"BI", 27}, {"BR", 29}, {"BY", 28}, {"CH", 21}, {"CR", 22},
    {"CY", 28}, {"CZ", 24}, {"DE", 22}, {"DJ", 27}, {"DK", 18}, {"DO", 28}, {"EE", 20},
    {"EG", 29}, {"ES", 24}, {"FI", 18}, {"FK", 18}, {"FO", 18}, {"FR", 27}, {"GB", 22},
    {"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27}, {"GT", 28}, {"HR", 21}, {"HU", 28},
    {"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IS", 26}, {"IT", 27}, {"JO", 30}, {"KW", 30},
    {"KZ", 20}, {"LB", 28}, {"LC", 32}, {"LI", 21}, {"LT", 20}, {"LU", 20}, {"LV", 21},
    {"LY", 25}, {"MC", 27}, {"MD", 24}, {"ME", 22}, {"MK", 19}, {"MN", 20}, {"MR", 27},
    {"MT", 31}, {"MU", 30}, {"NI", 28}, {"NL", 18}, {"NO", 15}, {"OM", 23}, {"PK", 24},
    {"PL", 28}, {"PS", 29}, {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22}, {"RU", 33},
    {"SA", 24}, {"SC", 31}, {"SD", 18}, {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27},
    {"SO", 23}, {"ST", 25}, {"SV", 28}, {"TL", 23}, {"TN", 24}, {"TR", 26}, {"UA", 29},
    {"VA", 22},
}};

std::optional<std::size_t> length_of(std::string_view country) {
    for (const auto& [code, length] : kLengths) {
        if (code == country) return length;
    }
    return std::nullopt;
}

bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Why `text` is not an IBAN, or "" if it is one; `out` gets the electronic form.
std::string problem(std::string_view text, std::string& out) {
    out.clear();
    for (char c : text) {
        if (c == ' ') continue;
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        if (!is_upper(c) && !is_digit(c)) return "contains a character other than A-Z and 0-9";
        out.push_back(c);
        if (out.size() > 34) return "is longer than 34 characters";
    }
    if (out.size() < 5) return "is too short";
    if (!is_upper(out[0]) || !is_upper(out[1]) || !is_digit(out[2]) || !is_digit(out[3])) {
        return "must start with a country code and two check digits";
    }
    auto expected = length_of(std::string_view(out).substr(0, 2));
    if (!expected) return "has an unknown country code " + out.substr(0, 2);
    if (out.size() != *expected) {
        return "has " + std::to_string(out.size()) + " characters; " + out.substr(0, 2) +
               " IBANs have " + std::to_string(*expected);
    }
    // ISO 7064 mod 97-10 over BBAN + country + check digits, letters as 10..35.
    std::string rearranged = out.substr(4) + out.substr(0, 4);
    int remainder = 0;
    for (char c : rearranged) {
        int value = is_digit(c) ? c - '0' : c - 'A' + 10;
        remainder = value >= 10 ? (remainder * 100 + value) % 97 : (remainder * 10 + value) % 97;
    }
    if (remainder != 1) return "fails its check digits (mod 97)";
    return "";
}

}  // namespace

Iban Iban::parse(std::string_view text) {
    std::string value;
    auto why = problem(text, value);
    if (!why.empty()) throw InputError("invalid IBAN: it " + why);
    return Iban(std::move(value));
}

std::optional<Iban> Iban::find(std::string_view text) {
    std::string value;
    if (!problem(text, value).empty()) return std::nullopt;
    return Iban(std::move(value));
}

}  // namespace artistsaid::gateways
