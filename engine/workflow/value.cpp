#include "engine/workflow/value.hpp"

#include <algorithm>

namespace artistsaid::workflow {

Value::Value(nlohmann::json data, bool secret) : data_(std::move(data)) {
    if (secret) secret_paths_.emplace_back();
}

void Value::mark_secret(const std::string& pointer) {
    if (std::find(secret_paths_.begin(), secret_paths_.end(), pointer) == secret_paths_.end())
        secret_paths_.push_back(pointer);
}

nlohmann::json Value::redacted() const {
    nlohmann::json out = data_;
    for (const auto& pointer : secret_paths_) {
        if (pointer.empty()) return "***";
        nlohmann::json::json_pointer ptr(pointer);
        if (out.contains(ptr)) out[ptr] = "***";
    }
    return out;
}

std::string Value::text() const { return value_text(data_); }

std::string Value::redacted_text() const { return value_text(redacted()); }

nlohmann::json money_to_json(const Money& money) {
    return {{"amount_minor", money.minor_units()},
            {"currency", std::string(money.currency().code())}};
}

std::optional<Money> money_from_json(const nlohmann::json& value) {
    if (!value.is_object() || value.size() != 2) return std::nullopt;
    auto amount = value.find("amount_minor");
    auto currency = value.find("currency");
    if (amount == value.end() || currency == value.end()) return std::nullopt;
    if (!amount->is_number_integer() || !currency->is_string()) return std::nullopt;
    auto code = Currency::find(currency->get_ref<const std::string&>());
    if (!code) return std::nullopt;
    return Money(amount->get<std::int64_t>(), *code);
}

std::string value_text(const nlohmann::json& value) {
    switch (value.type()) {
        case nlohmann::json::value_t::null:
            return "";
        case nlohmann::json::value_t::string:
            return value.get<std::string>();
        case nlohmann::json::value_t::boolean:
            return value.get<bool>() ? "true" : "false";
        case nlohmann::json::value_t::object:
            if (auto money = money_from_json(value)) return money->to_string();
            return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        default:
            return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
}

std::string kind_of(const nlohmann::json& value) {
    switch (value.type()) {
        case nlohmann::json::value_t::null:
            return "null";
        case nlohmann::json::value_t::boolean:
            return "a boolean";
        case nlohmann::json::value_t::number_integer:
        case nlohmann::json::value_t::number_unsigned:
            return "an integer";
        case nlohmann::json::value_t::number_float:
            return "a decimal number";
        case nlohmann::json::value_t::string:
            return "a string";
        case nlohmann::json::value_t::array:
            return "an array";
        case nlohmann::json::value_t::object:
            return money_from_json(value) ? "money" : "an object";
        default:
            return "binary data";
    }
}

}  // namespace artistsaid::workflow
