#include "gateways/bank/xml_reader.hpp"

#include "engine/core/error.hpp"

namespace artistsaid::gateways {

const XmlElement* XmlElement::child(std::string_view child_name) const {
    for (const auto& c : children) {
        if (c.name == child_name) return &c;
    }
    return nullptr;
}

const XmlElement* XmlElement::find(std::string_view path) const {
    const XmlElement* at = this;
    while (at != nullptr && !path.empty()) {
        auto slash = path.find('/');
        at = at->child(path.substr(0, slash));
        path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
    }
    return at;
}

std::string XmlElement::text_at(std::string_view path) const {
    const XmlElement* at = find(path);
    if (at == nullptr) return "";
    auto begin = at->text.find_first_not_of(" \t\r\n");
    if (begin == std::string::npos) return "";
    auto end = at->text.find_last_not_of(" \t\r\n");
    return at->text.substr(begin, end - begin + 1);
}

std::vector<const XmlElement*> XmlElement::all(std::string_view child_name) const {
    std::vector<const XmlElement*> result;
    for (const auto& c : children) {
        if (c.name == child_name) result.push_back(&c);
    }
    return result;
}

namespace {

class Parser {
public:
    Parser(std::string_view text, int max_depth) : text_(text), max_depth_(max_depth) {}

    XmlElement document() {
        skip_misc();
        if (peek() != '<') fail("expected the root element");
        XmlElement root = element(1);
        skip_misc();
        if (pos_ != text_.size()) fail("content after the root element");
        return root;
    }

private:
    [[noreturn]] void fail(const std::string& what) const {
        int line = 1, column = 1;
        for (std::size_t i = 0; i < pos_ && i < text_.size(); ++i) {
            if (text_[i] == '\n') {
                ++line;
                column = 1;
            } else {
                ++column;
            }
        }
        throw InputError("XML: " + what + " at line " + std::to_string(line) + ", column " +
                         std::to_string(column));
    }

    char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
    bool starts(std::string_view s) const { return text_.substr(pos_, s.size()) == s; }
    void skip_space() {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                       text_[pos_] == '\r' || text_[pos_] == '\n')) {
            ++pos_;
        }
    }
    void skip_past(std::string_view end, const char* what) {
        auto found = text_.find(end, pos_);
        if (found == std::string_view::npos) fail(std::string("unterminated ") + what);
        pos_ = found + end.size();
    }

    // Whitespace, comments and processing instructions (the XML declaration included).
    void skip_misc() {
        while (true) {
            skip_space();
            if (starts("<?")) {
                skip_past("?>", "processing instruction");
            } else if (starts("<!--")) {
                skip_past("-->", "comment");
            } else if (starts("<!DOCTYPE") || starts("<!doctype")) {
                fail("DOCTYPE declarations are not accepted");
            } else {
                return;
            }
        }
    }

    static bool name_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-' || c == '.' || c == ':' || static_cast<unsigned char>(c) >= 0x80;
    }

    std::string name() {
        std::size_t start = pos_;
        while (pos_ < text_.size() && name_char(text_[pos_])) ++pos_;
        if (pos_ == start) fail("expected a name");
        return std::string(text_.substr(start, pos_ - start));
    }

    static std::string local(const std::string& qualified) {
        auto colon = qualified.rfind(':');
        return colon == std::string::npos ? qualified : qualified.substr(colon + 1);
    }

    void append_utf8(std::string& out, unsigned long cp) {
        if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) fail("bad character reference");
        if (cp < 0x80) {
            out.push_back(static_cast<char>(cp));
        } else if (cp < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else if (cp < 0x10000) {
            out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else {
            out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        }
    }

    // At '&': decodes one entity or character reference into `out`.
    void entity(std::string& out) {
        auto semi = text_.find(';', pos_);
        if (semi == std::string_view::npos || semi - pos_ > 12) fail("unterminated entity");
        auto body = text_.substr(pos_ + 1, semi - pos_ - 1);
        if (body == "lt") out += '<';
        else if (body == "gt") out += '>';
        else if (body == "amp") out += '&';
        else if (body == "quot") out += '"';
        else if (body == "apos") out += '\'';
        else if (body.size() > 1 && body[0] == '#') {
            bool hex = body[1] == 'x';
            auto digits = body.substr(hex ? 2 : 1);
            if (digits.empty()) fail("bad character reference");
            unsigned long cp = 0;
            for (char c : digits) {
                int v = (c >= '0' && c <= '9') ? c - '0'
                        : hex && (c >= 'a' && c <= 'f') ? c - 'a' + 10
                        : hex && (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
                if (v < 0) fail("bad character reference");
                cp = cp * (hex ? 16 : 10) + static_cast<unsigned long>(v);
                if (cp > 0x10FFFF) fail("bad character reference");
            }
            append_utf8(out, cp);
        } else {
            fail("unknown entity &" + std::string(body) + ";");
        }
        pos_ = semi + 1;
    }

    XmlElement element(int depth) {
        if (depth > max_depth_) fail("nesting deeper than " + std::to_string(max_depth_));
        ++pos_;  // '<'
        XmlElement result;
        std::string qualified = name();
        result.name = local(qualified);
        while (true) {
            skip_space();
            if (starts("/>")) {
                pos_ += 2;
                return result;
            }
            if (peek() == '>') {
                ++pos_;
                break;
            }
            std::string attribute = name();
            skip_space();
            if (peek() != '=') fail("expected '=' after attribute " + attribute);
            ++pos_;
            skip_space();
            char quote = peek();
            if (quote != '"' && quote != '\'') fail("expected a quoted attribute value");
            ++pos_;
            std::string value;
            while (pos_ < text_.size() && text_[pos_] != quote) {
                if (text_[pos_] == '<') fail("'<' in an attribute value");
                if (text_[pos_] == '&') {
                    entity(value);
                } else {
                    value.push_back(text_[pos_++]);
                }
            }
            if (pos_ >= text_.size()) fail("unterminated attribute value");
            ++pos_;
            if (!result.attributes.emplace(local(attribute), value).second &&
                attribute.rfind("xmlns", 0) != 0) {
                fail("attribute " + attribute + " appears twice");
            }
        }
        while (true) {
            if (pos_ >= text_.size()) fail("<" + qualified + "> is not closed");
            char c = text_[pos_];
            if (c == '<') {
                if (starts("</")) {
                    pos_ += 2;
                    std::string closing = name();
                    if (closing != qualified) {
                        fail("</" + closing + "> closes <" + qualified + ">");
                    }
                    skip_space();
                    if (peek() != '>') fail("expected '>'");
                    ++pos_;
                    return result;
                }
                if (starts("<!--")) {
                    skip_past("-->", "comment");
                } else if (starts("<![CDATA[")) {
                    pos_ += 9;
                    auto end = text_.find("]]>", pos_);
                    if (end == std::string_view::npos) fail("unterminated CDATA section");
                    result.text.append(text_.substr(pos_, end - pos_));
                    pos_ = end + 3;
                } else if (starts("<?")) {
                    skip_past("?>", "processing instruction");
                } else if (starts("<!")) {
                    fail("declarations are not accepted inside elements");
                } else {
                    result.children.push_back(element(depth + 1));
                }
            } else if (c == '&') {
                entity(result.text);
            } else {
                result.text.push_back(c);
                ++pos_;
            }
        }
    }

    std::string_view text_;
    int max_depth_;
    std::size_t pos_ = 0;
};

}  // namespace

XmlElement XmlReader::parse(std::string_view document, std::size_t max_bytes, int max_depth) {
    if (document.size() > max_bytes) {
        throw InputError("XML: the document is larger than " + std::to_string(max_bytes) +
                         " bytes");
    }
    if (document.substr(0, 3) == "\xEF\xBB\xBF") document.remove_prefix(3);  // UTF-8 BOM
    return Parser(document, max_depth).document();
}

}  // namespace artistsaid::gateways
