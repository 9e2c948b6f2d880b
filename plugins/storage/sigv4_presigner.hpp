// AWS Signature Version 4 query-string signing ("presigned URLs"), which libcurl does not
// do: the request is signed over host only with an UNSIGNED-PAYLOAD, so whoever holds the
// URL can GET (or PUT) that one object until it expires (at most 7 days).
#pragma once

#include <chrono>
#include <string>

namespace artistsaid::plugins {

struct SigV4Credentials {
    std::string access_key_id;
    std::string secret_access_key;
    std::string region;
    std::string service = "s3";
};

/// `base` is scheme://host[:port]; `path` the already percent-encoded absolute path.
std::string presign_sigv4(const std::string& method, const std::string& base, const std::string& path,
                          const SigV4Credentials& credentials, std::chrono::system_clock::time_point now,
                          std::chrono::seconds expires);

/// HMAC-SHA256 and SHA-256 as raw bytes (SigV4's key derivation needs them).
std::string hmac_sha256(const std::string& key, const std::string& data);
std::string sha256_bytes(const std::string& data);

}  // namespace artistsaid::plugins
