// Content digests as lower-case hex (migration checksums, definition snapshots, keys).
#pragma once

#include <string>
#include <string_view>

namespace artistsaid {

/// Hex SHA-256 of `data` (64 characters).
std::string sha256_hex(std::string_view data);

}  // namespace artistsaid
