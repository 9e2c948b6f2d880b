// Where stored objects (documents, invoices, gallery media, bank files) live: one small
// interface, two backends — the local filesystem and any S3-compatible service.
// Keys are relative paths: 1–1024 bytes of UTF-8, segments separated by '/', no empty
// segment, no segment starting with '.', no control characters or backslashes.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace artistsaid::plugins {

struct StoredObject {
    std::string key;
    std::string content;  // empty for put results
    std::string content_type;
    std::size_t size = 0;
    std::string sha256;  // hex of the content
    std::string etag;
};

/// Thread-safety: every member may be called concurrently.
class StorageBackend {
public:
    virtual ~StorageBackend() = default;
    virtual std::string name() const = 0;
    /// Stores `content` under `key` (replacing what was there) and returns what was stored.
    virtual StoredObject put(const std::string& key, const std::string& content,
                             const std::string& content_type,
                             std::chrono::system_clock::time_point deadline) const = 0;
    /// The object, or nullopt if there is none. Checks its stored SHA-256 (WorkError on a
    /// mismatch) and refuses objects over `max_bytes`.
    virtual std::optional<StoredObject> get(const std::string& key, std::size_t max_bytes,
                                            std::chrono::system_clock::time_point deadline) const = 0;
    /// Removes the object; returns false if the backend knows there was none.
    virtual bool remove(const std::string& key, std::chrono::system_clock::time_point deadline) const = 0;
    /// A URL that allows `method` (GET or PUT) on the object until `expires` from now.
    virtual std::string presign(const std::string& key, const std::string& method,
                                std::chrono::seconds expires) const = 0;
};

/// Throws InputError if `key` breaks the rules above.
void check_storage_key(const std::string& key);

}  // namespace artistsaid::plugins
