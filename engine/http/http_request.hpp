// One outbound HTTP request: what to send and the limits it runs under. Plain data with
// small builders for the common bodies (form, JSON) and auth schemes.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace artistsaid::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
    std::string method = "GET";
    std::string url;
    HeaderList headers;
    std::string body;

    /// Time allowed to establish the connection (TCP + TLS + proxy).
    std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
    /// Time allowed for the whole transfer, connection included.
    std::chrono::milliseconds timeout{std::chrono::seconds(30)};
    /// An absolute deadline (a step's); the transfer is cut at the earlier of it and
    /// `timeout`. A deadline already past fails at once without sending.
    std::optional<std::chrono::system_clock::time_point> deadline;
    /// Larger response bodies are refused (TransportError kResponseTooLarge).
    std::size_t max_response_bytes = 8 * 1024 * 1024;
    /// Redirects are not followed unless asked (a redirect can change what gets sent where).
    bool follow_redirects = false;
    int max_redirects = 5;
    /// HTTP Basic credentials (Twilio), or with `aws_sigv4` the access key and secret.
    std::optional<std::pair<std::string, std::string>> credentials;
    /// CURLOPT_AWS_SIGV4 provider string, e.g. "aws:amz:us-east-1:s3". Empty: no signing.
    std::string aws_sigv4;
    /// Aborts the transfer when it becomes true (worker shutdown).
    const std::atomic<bool>* cancel = nullptr;
    /// A CA bundle to trust instead of the system's (tests with a private CA).
    std::string ca_file;

    HttpRequest& header(std::string name, std::string value);
    /// Body `application/x-www-form-urlencoded` from ordered fields (repeats allowed).
    HttpRequest& form(const HeaderList& fields);
    /// Body `application/json`.
    HttpRequest& json(const nlohmann::json& value);
    HttpRequest& basic_auth(std::string user, std::string password);
    HttpRequest& bearer(const std::string& token);

    /// "METHOD scheme://host/path" without query or credentials, for messages and logs.
    std::string describe() const;
};

/// application/x-www-form-urlencoded encoding of `fields` (RFC 3986 unreserved kept,
/// everything else %XX, space as %20).
std::string form_encode(const HeaderList& fields);

/// Percent-encodes every byte outside RFC 3986's unreserved set.
std::string percent_encode(std::string_view text);

}  // namespace artistsaid::http
