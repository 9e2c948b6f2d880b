// Reading a step's rendered `with:` inside a plugin: typed getters whose errors name the
// step type and the field (InputError: the step fails without retrying).
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace artistsaid::plugins {

class StepInputs {
public:
    StepInputs(std::string step_type, const nlohmann::json& with)
        : step_type_(std::move(step_type)), with_(with) {}

    bool has(const std::string& field) const;
    std::string string(const std::string& field) const;  // required
    std::optional<std::string> optional_string(const std::string& field) const;
    std::string string_or(const std::string& field, const std::string& fallback) const;
    long long integer_or(const std::string& field, long long fallback, long long min,
                         long long max) const;
    bool boolean_or(const std::string& field, bool fallback) const;
    /// A duration ("30s", "2m") or an integer number of seconds.
    std::chrono::milliseconds duration_or(const std::string& field,
                                          std::chrono::milliseconds fallback) const;
    const nlohmann::json& value(const std::string& field) const;  // null when absent
    /// An InputError "<step type>: <field>: <problem>".
    [[noreturn]] void fail(const std::string& field, const std::string& problem) const;

private:
    std::string step_type_;
    const nlohmann::json& with_;
};

}  // namespace artistsaid::plugins
