// Objects in an S3-compatible service (AWS S3, MinIO, Ceph, R2...), path-style URLs
// (<endpoint>/<bucket>/<key>), every request signed with AWS Signature V4 by libcurl
// (CURLOPT_AWS_SIGV4) and carrying x-amz-content-sha256 (the payload's SHA-256, signed);
// puts also send Content-MD5 (S3 rejects a body that does not match) and store the
// SHA-256 as x-amz-meta-sha256, which get() checks. Throttling and 5xx are retried
// (honouring Retry-After): object puts, gets and deletes are idempotent.
#pragma once

#include "engine/http/http_client.hpp"
#include "plugins/storage/sigv4_presigner.hpp"
#include "plugins/storage/storage_backend.hpp"

namespace artistsaid::plugins {

struct S3Settings {
    std::string endpoint;  // https://s3.eu-central-1.amazonaws.com or http://127.0.0.1:9000
    std::string bucket;
    SigV4Credentials credentials;
    std::string ca_file;
    std::chrono::milliseconds timeout{std::chrono::seconds(60)};
};

class S3Storage final : public StorageBackend {
public:
    explicit S3Storage(S3Settings settings, const http::HttpClient& client = http::HttpClient::shared());
    std::string name() const override { return "s3"; }
    StoredObject put(const std::string& key, const std::string& content, const std::string& content_type,
                     std::chrono::system_clock::time_point deadline) const override;
    std::optional<StoredObject> get(const std::string& key, std::size_t max_bytes,
                                    std::chrono::system_clock::time_point deadline) const override;
    bool remove(const std::string& key, std::chrono::system_clock::time_point deadline) const override;
    std::string presign(const std::string& key, const std::string& method,
                        std::chrono::seconds expires) const override;

private:
    std::string object_path(const std::string& key) const;
    http::HttpRequest request(const std::string& method, const std::string& key,
                              std::chrono::system_clock::time_point deadline) const;
    http::HttpResponse execute(const http::HttpRequest& request) const;

    S3Settings settings_;
    const http::HttpClient& client_;
};

}  // namespace artistsaid::plugins
