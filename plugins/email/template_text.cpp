#include "plugins/email/template_text.hpp"

#include <algorithm>
#include <cctype>

#include "engine/core/error.hpp"

namespace artistsaid::plugins {
namespace {

int line_of(const std::string& text, std::size_t pos) {
    return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(pos), '\n'));
}

}  // namespace

std::string html_escape(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string render_template_text(const std::string& text, const nlohmann::json& data,
                                 TemplateEscaping escaping, const std::string& source_name) {
    std::string out;
    std::size_t pos = 0;
    while (true) {
        std::size_t open = text.find("{{", pos);
        if (open == std::string::npos) {
            out.append(text, pos, std::string::npos);
            return out;
        }
        out.append(text, pos, open - pos);
        std::size_t close = text.find("}}", open + 2);
        auto where = source_name + ":" + std::to_string(line_of(text, open));
        if (close == std::string::npos) throw InputError("template " + where + ": '{{' is not closed");
        std::string name = text.substr(open + 2, close - open - 2);
        name.erase(0, name.find_first_not_of(" \t"));
        name.erase(name.find_last_not_of(" \t") + 1);
        bool valid = !name.empty() && name.front() != '.' && name.back() != '.' &&
                     name.find("..") == std::string::npos &&
                     std::all_of(name.begin(), name.end(), [](unsigned char c) {
                         return std::isalnum(c) || c == '_' || c == '.';
                     });
        if (!valid) throw InputError("template " + where + ": '" + name.substr(0, 40) + "' is not a variable name");
        const nlohmann::json* node = &data;
        std::size_t start = 0;
        while (node != nullptr) {
            std::size_t dot = name.find('.', start);
            std::string part = name.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
            node = (node->is_object() && node->contains(part)) ? &(*node)[part] : nullptr;
            if (dot == std::string::npos) break;
            start = dot + 1;
        }
        if (node == nullptr || node->is_null())
            throw InputError("template " + where + ": variable '" + name + "' is not set");
        std::string value;
        if (node->is_string()) {
            value = node->get<std::string>();
        } else if (node->is_number() || node->is_boolean()) {
            value = node->dump();
        } else {
            throw InputError("template " + where + ": variable '" + name + "' is an " +
                             (node->is_array() ? "array" : "object") + ", not text");
        }
        out += escaping == TemplateEscaping::kHtml ? html_escape(value) : value;
        pos = close + 2;
    }
}

}  // namespace artistsaid::plugins
