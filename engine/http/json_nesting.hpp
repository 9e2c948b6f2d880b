// A bound on how deeply a request's JSON may nest, checked at the server's doors (REST API
// bodies, webhook payloads) before the text is parsed.
//
// Why: nlohmann::json parses and destroys without recursion, but copying and dumping a
// value recurse once per level, so a body of 200,000 nested arrays (400 KB, well under the
// body limit) would overflow a thread's stack — one request could crash the server. No
// real event or API call nests anywhere near kMaxJsonDepth (Stripe's deepest events nest
// about ten levels).
#pragma once

#include <string_view>

namespace artistsaid::http {

constexpr int kMaxJsonDepth = 64;

/// True if `text` opens more than `max_depth` arrays/objects inside each other. Brackets
/// inside JSON strings (with their escapes) do not count. Linear, no allocation; works on
/// any text (invalid JSON is the parser's business).
bool json_nesting_exceeds(std::string_view text, int max_depth = kMaxJsonDepth) noexcept;

}  // namespace artistsaid::http
