// Iban: an International Bank Account Number that passed its country length and mod-97 check.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace artistsaid::gateways {

/// ISO 13616 IBAN. parse() accepts the printed form ("DE89 3704 0044 0532 0130 00") or the
/// electronic one, upper-cases it, and checks the country code, the country's length (SWIFT
/// IBAN registry) and the ISO 7064 mod-97-10 check digits.
/// Thread-safety: an immutable value.
class Iban {
public:
    /// Throws InputError saying what is wrong (never a partial IBAN is accepted).
    static Iban parse(std::string_view text);
    /// nullopt instead of an error.
    static std::optional<Iban> find(std::string_view text);

    /// The electronic form: no spaces, upper case ("DE89370400440532013000").
    const std::string& electronic() const noexcept { return value_; }
    std::string_view country() const noexcept { return std::string_view(value_).substr(0, 2); }

private:
    explicit Iban(std::string value) : value_(std::move(value)) {}
    std::string value_;
};

}  // namespace artistsaid::gateways
