#include "engine/core/error.hpp"
#include "plugins/common/encoding.hpp"
#include "plugins/storage/storage_backend.hpp"

namespace artistsaid::plugins {

void check_storage_key(const std::string& key) {
    auto bad = [&](const std::string& why) {
        throw InputError("storage: key '" + key.substr(0, 80) + "' " + why);
    };
    if (key.empty() || key.size() > 1024) bad("must be 1 to 1024 bytes long");
    if (!is_valid_utf8(key)) bad("is not UTF-8");
    for (unsigned char c : key)
        if (c < 0x20 || c == 0x7F || c == '\\') bad("contains a control character or a backslash");
    std::size_t start = 0;
    while (true) {
        std::size_t slash = key.find('/', start);
        std::string segment = key.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
        if (segment.empty()) bad("has an empty path segment (leading, trailing or double '/')");
        if (segment.front() == '.') bad("has a segment starting with '.'");
        if (slash == std::string::npos) break;
        start = slash + 1;
    }
}

}  // namespace artistsaid::plugins
