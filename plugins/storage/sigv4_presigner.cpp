#include "plugins/storage/sigv4_presigner.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <ctime>

#include "engine/core/error.hpp"
#include "engine/http/http_request.hpp"
#include "plugins/common/encoding.hpp"

namespace artistsaid::plugins {

std::string hmac_sha256(const std::string& key, const std::string& data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len) == nullptr)
        throw Error(ErrorCode::kInternal, "HMAC-SHA256 failed");
    return std::string(reinterpret_cast<char*>(out), len);
}

std::string sha256_bytes(const std::string& data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), out, &len, EVP_sha256(), nullptr) != 1)
        throw Error(ErrorCode::kInternal, "SHA-256 failed");
    return std::string(reinterpret_cast<char*>(out), len);
}

std::string presign_sigv4(const std::string& method, const std::string& base, const std::string& path,
                          const SigV4Credentials& c, std::chrono::system_clock::time_point now,
                          std::chrono::seconds expires) {
    if (expires.count() < 1 || expires.count() > 604800)
        throw InputError("storage.presign: expiry must be between 1 second and 7 days");
    std::time_t t = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char stamp[32], day[16];
    std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    std::strftime(day, sizeof day, "%Y%m%d", &tm);
    const std::string scope = std::string(day) + "/" + c.region + "/" + c.service + "/aws4_request";
    auto host_start = base.find("://");
    const std::string host = base.substr(host_start == std::string::npos ? 0 : host_start + 3);

    // Query parameters in byte order of their names (they already are, alphabetically).
    const std::string query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" +
                              http::percent_encode(c.access_key_id + "/" + scope) +
                              "&X-Amz-Date=" + stamp + "&X-Amz-Expires=" + std::to_string(expires.count()) +
                              "&X-Amz-SignedHeaders=host";
    const std::string canonical =
        method + "\n" + path + "\n" + query + "\nhost:" + host + "\n\nhost\nUNSIGNED-PAYLOAD";
    const std::string to_sign = "AWS4-HMAC-SHA256\n" + std::string(stamp) + "\n" + scope + "\n" +
                                hex_encode(sha256_bytes(canonical));
    std::string key = hmac_sha256("AWS4" + c.secret_access_key, day);
    key = hmac_sha256(key, c.region);
    key = hmac_sha256(key, c.service);
    key = hmac_sha256(key, "aws4_request");
    return base + path + "?" + query + "&X-Amz-Signature=" + hex_encode(hmac_sha256(key, to_sign));
}

}  // namespace artistsaid::plugins
