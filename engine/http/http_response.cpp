#include "engine/http/http_response.hpp"

#include <algorithm>
#include <cctype>

#include "engine/core/error.hpp"

namespace artistsaid::http {

std::optional<std::string> HttpResponse::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (key.size() == name.size() &&
            std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) ==
                       std::tolower(static_cast<unsigned char>(b));
            }))
            return value;
    }
    return std::nullopt;
}

nlohmann::json HttpResponse::json() const {
    try {
        return nlohmann::json::parse(body);
    } catch (const nlohmann::json::parse_error& e) {
        throw WorkError("HTTP " + std::to_string(status) + " response is not JSON (" +
                        std::string(e.what()).substr(0, 120) + ")");
    }
}

}  // namespace artistsaid::http
