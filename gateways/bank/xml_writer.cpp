#include "gateways/bank/xml_writer.hpp"

#include "engine/core/error.hpp"

namespace artistsaid::gateways {

XmlWriter::XmlWriter() : out_("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n") {}

std::string XmlWriter::escape(std::string_view text) {
    std::string result;
    result.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&': result += "&amp;"; break;
            case '<': result += "&lt;"; break;
            case '>': result += "&gt;"; break;
            case '"': result += "&quot;"; break;
            case '\'': result += "&apos;"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') {
                    throw InputError("XML text may not contain control characters");
                }
                result.push_back(c);
        }
    }
    return result;
}

void XmlWriter::indent() { out_.append(open_.size() * 2, ' '); }

void XmlWriter::open(std::string_view name,
                     const std::vector<std::pair<std::string, std::string>>& attributes) {
    indent();
    out_ += "<" + std::string(name);
    for (const auto& [key, value] : attributes) out_ += " " + key + "=\"" + escape(value) + "\"";
    out_ += ">\n";
    open_.emplace_back(name);
}

void XmlWriter::close() {
    if (open_.empty()) throw InputError("XmlWriter: close() without an open element");
    std::string name = std::move(open_.back());
    open_.pop_back();
    indent();
    out_ += "</" + name + ">\n";
}

void XmlWriter::leaf(std::string_view name, std::string_view text,
                     const std::vector<std::pair<std::string, std::string>>& attributes) {
    indent();
    out_ += "<" + std::string(name);
    for (const auto& [key, value] : attributes) out_ += " " + key + "=\"" + escape(value) + "\"";
    out_ += ">" + escape(text) + "</" + std::string(name) + ">\n";
}

std::string XmlWriter::finish() {
    if (!open_.empty()) throw InputError("XmlWriter: <" + open_.back() + "> is still open");
    return std::move(out_);
}

}  // namespace artistsaid::gateways
