#include "engine/http/server_options.hpp"

#include <algorithm>

#include "engine/core/error.hpp"

namespace artistsaid::http {

void parse_listen(const std::string& listen, ServerOptions& options) {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos)
        throw InputError("--listen '" + listen + "': expected HOST:PORT, e.g. 127.0.0.1:8080");
    std::string host = listen.substr(0, colon), port = listen.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    if (host.empty()) host = "0.0.0.0";
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoi(port) > 65535)
        throw InputError("--listen '" + listen + "': the port must be 0-65535");
    options.host = host;
    options.port = static_cast<unsigned short>(std::stoi(port));
}

}  // namespace artistsaid::http
