// Value: what an expression or a template evaluates to — a JSON value that remembers which
// of its parts were derived from secrets, so whatever renders it can redact them.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/core/money.hpp"

namespace artistsaid::workflow {

/// The result of evaluating an expression, a template string or a `with:` block.
///
/// What for: step inputs, `if` conditions and `for_each` collections at run time. Money is
/// held in JSON as {"amount_minor": <int64>, "currency": "<ISO 4217>"} (money_to_json), so a
/// value can be stored in PostgreSQL and read back unchanged.
///
/// Secrets: a value computed from `secrets.*` (directly, through an operator, a function or
/// string interpolation) is *tainted*. secret_paths() lists the JSON pointers of tainted
/// parts ("" is the whole value); redacted() replaces each with "***". The run-time passes
/// the plain data() to a step and shows only redacted() in logs, `runs show` and errors.
///
/// Thread-safety: a plain value; const access from several threads is safe.
class Value {
public:
    Value() = default;
    explicit Value(nlohmann::json data, bool secret = false);

    const nlohmann::json& data() const noexcept { return data_; }
    nlohmann::json& data() noexcept { return data_; }
    nlohmann::json release() && { return std::move(data_); }

    /// True if any part of the value was derived from a secret.
    bool is_secret() const noexcept { return !secret_paths_.empty(); }
    /// JSON pointers (RFC 6901) of the secret parts; "" means the whole value.
    const std::vector<std::string>& secret_paths() const noexcept { return secret_paths_; }
    /// Marks the part at `pointer` (relative to this value) as secret.
    void mark_secret(const std::string& pointer = "");

    /// A copy with every secret part replaced by the string "***".
    nlohmann::json redacted() const;

    /// Text for string interpolation and messages: strings as they are, null as "",
    /// integers and booleans as written, money as "12.34 USD", arrays and objects as compact
    /// JSON. Secret parts are included (use redacted_text() to show it to people).
    std::string text() const;
    std::string redacted_text() const;

private:
    nlohmann::json data_;
    std::vector<std::string> secret_paths_;
};

/// {"amount_minor": 1234, "currency": "USD"}.
nlohmann::json money_to_json(const Money& money);

/// The Money held by a JSON object of exactly that shape (integer amount_minor, a known
/// currency code); std::nullopt for anything else.
std::optional<Money> money_from_json(const nlohmann::json& value);

/// The interpolation text of a JSON value (see Value::text()).
std::string value_text(const nlohmann::json& value);

/// A short description of a JSON value's kind for error messages: "a string", "an integer",
/// "money", "an array", ... Never includes the value itself.
std::string kind_of(const nlohmann::json& value);

}  // namespace artistsaid::workflow
