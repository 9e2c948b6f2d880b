#include "gateways/bank/bic.hpp"

#include "engine/core/error.hpp"

namespace artistsaid::gateways {
namespace {

bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_alnum(char c) { return is_upper(c) || (c >= '0' && c <= '9'); }

std::string problem(std::string_view text) {
    if (text.size() != 8 && text.size() != 11) return "must have 8 or 11 characters";
    for (std::size_t i = 0; i < 6; ++i) {
        if (!is_upper(text[i])) return "must start with 6 capital letters (bank and country)";
    }
    for (std::size_t i = 6; i < text.size(); ++i) {
        if (!is_alnum(text[i])) return "may only have capital letters and digits after the country";
    }
    // ISO 9362: location codes never start with 0 or 1 (test BICs) nor end in O, as the
    // pain.001 schema's BICIdentifier pattern also says.
    if (text[6] == '0' || text[6] == '1') return "has a location code starting with 0 or 1";
    if (text[7] == 'O') return "has a location code ending in the letter O";
    return "";
}

}  // namespace

Bic Bic::parse(std::string_view text) {
    auto why = problem(text);
    // The text is not shown: a wrong field may hold anything.
    if (!why.empty()) throw InputError("invalid BIC: it " + why);
    return Bic(std::string(text));
}

std::optional<Bic> Bic::find(std::string_view text) {
    if (!problem(text).empty()) return std::nullopt;
    return Bic(std::string(text));
}

}  // namespace artistsaid::gateways
