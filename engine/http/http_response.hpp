// What an HTTP server answered: status, headers (names lower-cased, in order), body.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "engine/http/http_request.hpp"

namespace artistsaid::http {

struct HttpResponse {
    long status = 0;
    HeaderList headers;  // names lower-cased; the final response's only (after redirects)
    std::string body;
    std::string effective_url;

    /// The first header of that name (case-insensitive), if any.
    std::optional<std::string> header(std::string_view name) const;
    bool ok() const noexcept { return status >= 200 && status < 300; }
    /// The body as JSON; InputError-free: throws WorkError when it is not JSON.
    nlohmann::json json() const;
};

}  // namespace artistsaid::http
