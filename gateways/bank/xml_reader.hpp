// XmlReader: a small, strict XML parser for bank statements (camt.053/camt.054).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace artistsaid::gateways {

/// One element: its local name (namespace prefix dropped), attributes, the text directly
/// inside it (entities decoded, CDATA included) and its child elements.
struct XmlElement {
    std::string name;
    std::map<std::string, std::string> attributes;
    std::string text;
    std::vector<XmlElement> children;

    /// The first child with this local name, or nullptr.
    const XmlElement* child(std::string_view child_name) const;
    /// The element at a '/'-separated path of first children ("Refs/EndToEndId"), or nullptr.
    const XmlElement* find(std::string_view path) const;
    /// find(path)'s text with surrounding whitespace removed; "" if absent.
    std::string text_at(std::string_view path) const;
    std::vector<const XmlElement*> all(std::string_view child_name) const;
};

/// Parses a whole document into its root element. Refuses (InputError with line:column)
/// malformed XML, DOCTYPE declarations (no entity expansion, no external entities),
/// documents over `max_bytes` and nesting deeper than `max_depth`.
/// Thread-safety: stateless.
class XmlReader {
public:
    static constexpr std::size_t kDefaultMaxBytes = 64 * 1024 * 1024;
    static constexpr int kDefaultMaxDepth = 64;

    static XmlElement parse(std::string_view document, std::size_t max_bytes = kDefaultMaxBytes,
                            int max_depth = kDefaultMaxDepth);
};

}  // namespace artistsaid::gateways
