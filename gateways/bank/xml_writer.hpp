// XmlWriter: builds an XML document element by element, escaping all text.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace artistsaid::gateways {

/// Writes indented XML into a string. Text and attribute values are escaped (&, <, >, ",
/// '); control characters other than tab, LF and CR are refused, as XML 1.0 forbids them.
/// Thread-safety: one writer per thread.
class XmlWriter {
public:
    XmlWriter();  // starts with the XML declaration (UTF-8)

    /// Opens <name attr="value"...>.
    void open(std::string_view name,
              const std::vector<std::pair<std::string, std::string>>& attributes = {});
    void close();  // closes the innermost open element
    /// <name attrs>escaped text</name>
    void leaf(std::string_view name, std::string_view text,
              const std::vector<std::pair<std::string, std::string>>& attributes = {});

    /// The document; throws InputError if elements are still open.
    std::string finish();

    /// `text` escaped for element content and attribute values.
    static std::string escape(std::string_view text);

private:
    void indent();
    std::string out_;
    std::vector<std::string> open_;
};

}  // namespace artistsaid::gateways
