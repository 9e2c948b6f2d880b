// Message authentication for webhooks and API keys: HMAC, hex and base64, and a
// comparison whose time does not depend on where two strings differ.
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace artistsaid::http {

/// Raw HMAC-SHA256 / HMAC-SHA1 of `data` under `key` (32 / 20 bytes).
std::string hmac_sha256(std::string_view key, std::string_view data);
std::string hmac_sha1(std::string_view key, std::string_view data);
/// Raw SHA-256 (32 bytes).
std::string sha256(std::string_view data);

std::string to_hex(std::string_view bytes);
std::string base64_encode(std::string_view bytes);
/// Standard base64 (with padding) → bytes; nullopt when malformed or over 64 KiB of text.
std::optional<std::string> base64_decode(std::string_view text);

/// True if a and b are equal; takes the same time for any two strings of one length
/// (CRYPTO_memcmp), so a signature cannot be guessed byte by byte.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

/// `count` random bytes from the operating system's CSPRNG (RAND_bytes).
std::string random_bytes(std::size_t count);

}  // namespace artistsaid::http
