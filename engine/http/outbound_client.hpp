// Outbound HTTP calls (libcurl) with a deadline: the PayPal verification API today,
// providers' APIs later. throw_from_curl is the one place curl's errors become ours.
// Thread-safety: each call uses its own curl handle; share the client freely.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace artistsaid::http {

struct OutboundResponse {
    long status = 0;
    std::string body;
};

class OutboundClient {
public:
    explicit OutboundClient(std::chrono::milliseconds timeout) : timeout_(timeout) {}
    /// POSTs `body`; `headers` are "Name: value" lines; `basic_auth` is "user:password"
    /// (empty: none). Throws UnavailableError if the server cannot be reached in time.
    /// Response bodies over 1 MiB are refused.
    OutboundResponse post(const std::string& url, const std::vector<std::string>& headers,
                          const std::string& body, const std::string& basic_auth = {}) const;

private:
    std::chrono::milliseconds timeout_;
};

}  // namespace artistsaid::http
