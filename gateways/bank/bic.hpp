// Bic: a Business Identifier Code (ISO 9362), as the creditor agent of a bank transfer.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace artistsaid::gateways {

/// ISO 9362 BIC: 4 letters (institution), 2 letters (country), 2 letters or digits
/// (location), optionally 3 letters or digits (branch): "DEUTDEFF" or "DEUTDEFF500".
/// Thread-safety: an immutable value.
class Bic {
public:
    /// Throws InputError saying what is wrong.
    static Bic parse(std::string_view text);
    static std::optional<Bic> find(std::string_view text);

    const std::string& code() const noexcept { return value_; }
    std::string_view country() const noexcept { return std::string_view(value_).substr(4, 2); }

private:
    explicit Bic(std::string value) : value_(std::move(value)) {}
    std::string value_;
};

}  // namespace artistsaid::gateways
