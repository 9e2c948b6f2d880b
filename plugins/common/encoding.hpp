// Byte encodings the plugins share: base64 (MIME, storage contents), hex, UTF-8 checks.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace artistsaid::plugins {

std::string base64_encode(std::string_view bytes);
/// nullopt when `text` is not valid base64 (whitespace is ignored).
std::optional<std::string> base64_decode(std::string_view text);
bool is_valid_utf8(std::string_view text);
std::string hex_encode(std::string_view bytes);

}  // namespace artistsaid::plugins
