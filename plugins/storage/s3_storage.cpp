#include "plugins/storage/s3_storage.hpp"

#include <openssl/evp.h>

#include "engine/core/digest.hpp"
#include "engine/core/error.hpp"
#include "engine/http/http_retry_policy.hpp"
#include "plugins/common/encoding.hpp"

namespace artistsaid::plugins {
namespace {

std::string md5_base64(const std::string& data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), out, &len, EVP_md5(), nullptr);
    return base64_encode(std::string(reinterpret_cast<char*>(out), len));
}

// The <Code> of an S3 XML error body, if any.
std::string s3_error_code(const std::string& body) {
    auto a = body.find("<Code>");
    auto b = body.find("</Code>");
    if (a == std::string::npos || b == std::string::npos || b < a) return "";
    return body.substr(a + 6, std::min<std::size_t>(b - a - 6, 64));
}

}  // namespace

S3Storage::S3Storage(S3Settings settings, const http::HttpClient& client)
    : settings_(std::move(settings)), client_(client) {
    while (!settings_.endpoint.empty() && settings_.endpoint.back() == '/') settings_.endpoint.pop_back();
    if (settings_.endpoint.rfind("https://", 0) != 0 && settings_.endpoint.rfind("http://", 0) != 0)
        throw InputError("storage: the S3 endpoint must be an http(s) URL");
    if (settings_.bucket.empty() || settings_.bucket.find('/') != std::string::npos)
        throw InputError("storage: the S3 bucket name is missing or contains '/'");
}

std::string S3Storage::object_path(const std::string& key) const {
    check_storage_key(key);
    std::string path = "/" + http::percent_encode(settings_.bucket) + "/";
    std::size_t start = 0;
    while (true) {
        std::size_t slash = key.find('/', start);
        path += http::percent_encode(key.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
        if (slash == std::string::npos) break;
        path += "/";
        start = slash + 1;
    }
    return path;
}

http::HttpRequest S3Storage::request(const std::string& method, const std::string& key,
                                     std::chrono::system_clock::time_point deadline) const {
    http::HttpRequest r;
    r.method = method;
    r.url = settings_.endpoint + object_path(key);
    r.credentials = std::make_pair(settings_.credentials.access_key_id, settings_.credentials.secret_access_key);
    r.aws_sigv4 = "aws:amz:" + settings_.credentials.region + ":" + settings_.credentials.service;
    r.deadline = deadline;
    r.timeout = settings_.timeout;
    r.ca_file = settings_.ca_file;
    return r;
}

http::HttpResponse S3Storage::execute(const http::HttpRequest& r) const {
    http::HttpRetryPolicy policy;
    policy.idempotent = true;
    policy.max_attempts = 3;
    auto res = http::send_with_retries(client_, r, policy).response;
    if (res.status >= 300 && res.status != 404) {
        std::string code = s3_error_code(res.body);
        std::string text = "storage: " + r.describe() + " answered HTTP " + std::to_string(res.status) +
                           (code.empty() ? "" : " " + code);
        if (res.status >= 500 || res.status == 429) throw UnavailableError(text);
        throw WorkError(text);
    }
    return res;
}

StoredObject S3Storage::put(const std::string& key, const std::string& content, const std::string& content_type,
                            std::chrono::system_clock::time_point deadline) const {
    auto r = request("PUT", key, deadline);
    const std::string sha = sha256_hex(content);
    r.body = content;
    r.header("Content-Type", content_type)
        .header("Content-MD5", md5_base64(content))
        .header("x-amz-content-sha256", sha)
        .header("x-amz-meta-sha256", sha);
    auto res = execute(r);
    if (res.status == 404) throw WorkError("storage: bucket '" + settings_.bucket + "' does not exist");
    return {key, "", content_type, content.size(), sha, res.header("etag").value_or("")};
}

std::optional<StoredObject> S3Storage::get(const std::string& key, std::size_t max_bytes,
                                           std::chrono::system_clock::time_point deadline) const {
    auto r = request("GET", key, deadline);
    r.header("x-amz-content-sha256", sha256_hex(""));
    r.max_response_bytes = max_bytes;
    auto res = execute(r);
    if (res.status == 404) return std::nullopt;
    StoredObject o{key, std::move(res.body), res.header("content-type").value_or("application/octet-stream"), 0,
                   "", res.header("etag").value_or("")};
    o.size = o.content.size();
    o.sha256 = sha256_hex(o.content);
    if (auto recorded = res.header("x-amz-meta-sha256"); recorded && *recorded != o.sha256)
        throw WorkError("storage: object '" + key + "' does not match its recorded SHA-256");
    return o;
}

bool S3Storage::remove(const std::string& key, std::chrono::system_clock::time_point deadline) const {
    auto r = request("DELETE", key, deadline);
    r.header("x-amz-content-sha256", sha256_hex(""));
    auto res = execute(r);
    return res.status != 404;  // S3 answers 204 whether or not the key existed
}

std::string S3Storage::presign(const std::string& key, const std::string& method, std::chrono::seconds expires) const {
    if (method != "GET" && method != "PUT") throw InputError("storage.presign: method must be GET or PUT");
    return presign_sigv4(method, settings_.endpoint, object_path(key), settings_.credentials,
                         std::chrono::system_clock::now(), expires);
}

}  // namespace artistsaid::plugins
