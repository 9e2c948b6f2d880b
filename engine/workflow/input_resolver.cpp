#include "engine/workflow/input_resolver.hpp"

#include "engine/workflow/detail/suggest.hpp"

namespace artistsaid::workflow {

nlohmann::json InputResolver::resolve(const nlohmann::json& given,
                                      const EvalContext& context) const {
    if (!given.is_object() && !given.is_null())
        throw InputError("the inputs of a run must be an object of name: value, not " +
                         kind_of(given));
    std::vector<std::string> problems;
    std::vector<std::string> names;
    for (const auto& i : definition_.inputs) names.push_back(i.name);
    if (given.is_object()) {
        for (auto it = given.begin(); it != given.end(); ++it) {
            if (definition_.find_input(it.key()) != nullptr) continue;
            std::string problem = "unknown input '" + it.key() + "'";
            std::string hint = detail::did_you_mean(it.key(), names);
            if (!hint.empty()) problem += " (" + hint + ")";
            problems.push_back(problem);
        }
    }
    nlohmann::json out = nlohmann::json::object();
    for (const auto& input : definition_.inputs) {
        const std::string prefix = "input '" + input.name + "': ";
        nlohmann::json value;
        if (given.is_object() && given.contains(input.name) && !given[input.name].is_null()) {
            value = given[input.name];
            if ((input.type == ValueType::kArray || input.type == ValueType::kObject) &&
                value.is_string()) {
                auto parsed = nlohmann::json::parse(value.get<std::string>(), nullptr, false);
                if (!parsed.is_discarded()) value = std::move(parsed);
            }
        } else if (input.default_value) {
            try {
                value = input.default_value->render(context).data();
            } catch (const Error& e) {
                problems.push_back(prefix + "its default failed: " + e.what());
                continue;
            }
        } else if (input.required) {
            problems.push_back("missing required input '" + input.name + "' (" +
                               std::string(to_string(input.type)) + ")");
            continue;
        } else {
            out[input.name] = nullptr;
            continue;
        }
        try {
            out[input.name] = coerce_value(input.type, value);
        } catch (const InputError& e) {
            problems.push_back(prefix + e.what());
        }
    }
    if (!problems.empty()) {
        std::string message = "invalid inputs for workflow '" + definition_.name + "': ";
        for (std::size_t i = 0; i < problems.size(); ++i)
            message += (i == 0 ? "" : "; ") + problems[i];
        throw InputError(message);
    }
    return out;
}

nlohmann::json InputResolver::parse_assignments(const std::vector<std::string>& assignments) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& a : assignments) {
        auto eq = a.find('=');
        if (eq == std::string::npos || eq == 0)
            throw InputError("invalid input '" + a + "': expected name=value");
        std::string key = a.substr(0, eq);
        if (out.contains(key)) throw InputError("input '" + key + "' is given twice");
        out[key] = a.substr(eq + 1);
    }
    return out;
}

}  // namespace artistsaid::workflow
