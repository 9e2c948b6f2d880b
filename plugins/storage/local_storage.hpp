// Objects as files under a root directory: <root>/<key>, with their content type and
// SHA-256 in <root>/.meta/<key>.json. Writes go to a temporary file that is fsynced and
// renamed into place, so a reader never sees half an object. No URLs: presign refuses.
#pragma once

#include "plugins/storage/storage_backend.hpp"

namespace artistsaid::plugins {

class LocalStorage final : public StorageBackend {
public:
    explicit LocalStorage(std::string root);
    std::string name() const override { return "local"; }
    StoredObject put(const std::string& key, const std::string& content, const std::string& content_type,
                     std::chrono::system_clock::time_point deadline) const override;
    std::optional<StoredObject> get(const std::string& key, std::size_t max_bytes,
                                    std::chrono::system_clock::time_point deadline) const override;
    bool remove(const std::string& key, std::chrono::system_clock::time_point deadline) const override;
    std::string presign(const std::string& key, const std::string& method,
                        std::chrono::seconds expires) const override;

private:
    std::string root_;
};

}  // namespace artistsaid::plugins
