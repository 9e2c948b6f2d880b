#include "plugins/storage/local_storage.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/core/digest.hpp"
#include "engine/core/error.hpp"

namespace artistsaid::plugins {
namespace {

namespace fs = std::filesystem;

void write_atomically(const fs::path& path, const std::string& bytes) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec) throw WorkError("storage: cannot create " + path.parent_path().string() + ": " + ec.message());
    fs::path tmp = path;
    tmp += ".tmp" + std::to_string(::getpid()) + "." +
           std::to_string(std::hash<std::string>{}(path.string() + std::to_string(::gettid())));
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) throw WorkError("storage: cannot write " + tmp.string());
    std::size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n <= 0) {
            ::close(fd);
            fs::remove(tmp, ec);
            throw WorkError("storage: writing " + path.string() + " failed");
        }
        done += static_cast<std::size_t>(n);
    }
    bool synced = ::fsync(fd) == 0;
    ::close(fd);
    if (!synced) throw WorkError("storage: fsync of " + path.string() + " failed");
    fs::rename(tmp, path, ec);
    if (ec) throw WorkError("storage: cannot rename into " + path.string() + ": " + ec.message());
}

}  // namespace

LocalStorage::LocalStorage(std::string root) : root_(std::move(root)) {}

StoredObject LocalStorage::put(const std::string& key, const std::string& content,
                               const std::string& content_type, std::chrono::system_clock::time_point) const {
    check_storage_key(key);
    StoredObject o{key, "", content_type, content.size(), sha256_hex(content), ""};
    o.etag = "\"" + o.sha256.substr(0, 32) + "\"";
    // Metadata first: a crash between the two leaves new metadata and the old (or no)
    // content, which get() reports as a checksum mismatch rather than returning it silently.
    write_atomically(fs::path(root_) / ".meta" / (key + ".json"),
                     nlohmann::json{{"content_type", content_type}, {"sha256", o.sha256}, {"size", o.size}}.dump());
    write_atomically(fs::path(root_) / key, content);
    return o;
}

std::optional<StoredObject> LocalStorage::get(const std::string& key, std::size_t max_bytes,
                                              std::chrono::system_clock::time_point) const {
    check_storage_key(key);
    fs::path path = fs::path(root_) / key;
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) return std::nullopt;
    if (fs::file_size(path, ec) > max_bytes)
        throw WorkError("storage: object '" + key + "' is larger than " + std::to_string(max_bytes) + " bytes");
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    StoredObject o{key, s.str(), "application/octet-stream", 0, "", ""};
    o.size = o.content.size();
    o.sha256 = sha256_hex(o.content);
    std::ifstream meta_in(fs::path(root_) / ".meta" / (key + ".json"));
    if (meta_in) {
        auto meta = nlohmann::json::parse(meta_in, nullptr, false);
        if (meta.is_object()) {
            o.content_type = meta.value("content_type", o.content_type);
            if (meta.value("sha256", o.sha256) != o.sha256)
                throw WorkError("storage: object '" + key + "' does not match its recorded SHA-256");
        }
    }
    o.etag = "\"" + o.sha256.substr(0, 32) + "\"";
    return o;
}

bool LocalStorage::remove(const std::string& key, std::chrono::system_clock::time_point) const {
    check_storage_key(key);
    std::error_code ec;
    bool existed = fs::remove(fs::path(root_) / key, ec);
    fs::remove(fs::path(root_) / ".meta" / (key + ".json"), ec);
    return existed;
}

std::string LocalStorage::presign(const std::string&, const std::string&, std::chrono::seconds) const {
    throw InputError("storage.presign: the local backend has no URLs to sign; use the s3 backend");
}

}  // namespace artistsaid::plugins
