#include "engine/http/http_request.hpp"

namespace artistsaid::http {
namespace {

bool unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}


}  // namespace

std::string percent_encode(std::string_view text) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (unsigned char c : text) {
        if (unreserved(c)) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::string form_encode(const HeaderList& fields) {
    std::string out;
    for (const auto& [name, value] : fields) {
        if (!out.empty()) out += '&';
        out += percent_encode(name);
        out += '=';
        out += percent_encode(value);
    }
    return out;
}

HttpRequest& HttpRequest::header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
}

HttpRequest& HttpRequest::form(const HeaderList& fields) {
    body = form_encode(fields);
    return header("Content-Type", "application/x-www-form-urlencoded");
}

HttpRequest& HttpRequest::json(const nlohmann::json& value) {
    body = value.dump();
    return header("Content-Type", "application/json");
}

HttpRequest& HttpRequest::basic_auth(std::string user, std::string password) {
    credentials = std::make_pair(std::move(user), std::move(password));
    return *this;
}

HttpRequest& HttpRequest::bearer(const std::string& token) {
    return header("Authorization", "Bearer " + token);
}

std::string HttpRequest::describe() const {
    std::string shown = url;
    if (auto q = shown.find_first_of("?#"); q != std::string::npos) shown.resize(q);
    // Drop userinfo ("https://user:pass@host/") should a caller have put it there.
    if (auto scheme = shown.find("://"); scheme != std::string::npos) {
        auto host_start = scheme + 3;
        auto path = shown.find('/', host_start);
        auto at = shown.rfind('@', path == std::string::npos ? shown.size() : path);
        if (at != std::string::npos && at >= host_start) shown.erase(host_start, at + 1 - host_start);
    }
    return method + " " + shown;
}

}  // namespace artistsaid::http
