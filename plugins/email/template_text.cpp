#include "plugins/email/template_text.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <regex>
#include <sstream>
#include <string_view>
#include <utility>

#include "engine/core/error.hpp"

namespace artistsaid::plugins {
namespace {

int line_of(const std::string& text, std::size_t pos) {
    return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(pos), '\n'));
}

}  // namespace

std::vector<std::string> template_locales(const std::string& locale, const std::string& fallback,
                                          const std::string& who) {
    static const std::regex locale_re("[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*");
    if (!std::regex_match(locale, locale_re))
        throw InputError(who + ": locale '" + locale.substr(0, 20) + "' is not a language tag like en or de-AT");
    std::vector<std::string> candidates;
    for (std::string l = locale;;) {
        candidates.push_back(l);
        auto dash = l.rfind('-');
        if (dash == std::string::npos) break;
        l.resize(dash);
    }
    if (std::find(candidates.begin(), candidates.end(), fallback) == candidates.end())
        candidates.push_back(fallback);
    return candidates;
}

std::optional<std::string> read_template_file(const std::filesystem::path& path) {
    constexpr std::uintmax_t kMaxTemplateBytes = 1024 * 1024;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
    if (std::filesystem::file_size(path, ec) > kMaxTemplateBytes)
        throw InputError("template " + path.string() + " is larger than 1 MiB");
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

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

namespace {

constexpr std::string_view kEach = "#each";
constexpr std::string_view kEnd = "/each";

bool valid_name(const std::string& name) {
    return !name.empty() && name.front() != '.' && name.back() != '.' &&
           name.find("..") == std::string::npos &&
           std::all_of(name.begin(), name.end(), [](unsigned char c) {
               return std::isalnum(c) || c == '_' || c == '.';
           });
}

const nlohmann::json* lookup(const nlohmann::json& data, const std::string& name) {
    const nlohmann::json* node = &data;
    std::size_t start = 0;
    while (node != nullptr) {
        std::size_t dot = name.find('.', start);
        std::string part = name.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        node = (node->is_object() && node->contains(part)) ? &(*node)[part] : nullptr;
        if (dot == std::string::npos) break;
        start = dot + 1;
    }
    return node;
}

std::string trimmed(std::string text) {
    text.erase(0, text.find_first_not_of(" \t"));
    text.erase(text.find_last_not_of(" \t") + 1);
    return text;
}

struct Renderer {
    const std::string& text;
    TemplateEscaping escaping;
    const std::string& source_name;

    std::string where(std::size_t pos) const {
        return source_name + ":" + std::to_string(line_of(text, pos));
    }

    // The tag at `open` ("{{" … "}}"): its trimmed content and the position after it.
    std::pair<std::string, std::size_t> tag(std::size_t open) const {
        std::size_t close = text.find("}}", open + 2);
        if (close == std::string::npos)
            throw InputError("template " + where(open) + ": '{{' is not closed");
        return {trimmed(text.substr(open + 2, close - open - 2)), close + 2};
    }

    // The position after the `{{/each}}` matching the loop opened at `open`, whose body
    // starts at `pos` (for an empty list: the body is not rendered).
    std::size_t skip_loop(std::size_t pos, std::size_t open) const {
        int depth = 1;
        while (true) {
            std::size_t at = text.find("{{", pos);
            if (at == std::string::npos)
                throw InputError("template " + where(open) + ": '{{#each' is not closed by '{{/each}}'");
            auto [name, next] = tag(at);
            if (name == kEnd && --depth == 0) return next;
            if (name.rfind(kEach, 0) == 0) ++depth;
            pos = next;
        }
    }

    // Renders [pos, end) with `data`; returns at `end` or at a `{{/each}}` when `in_loop`
    // (then `*loop_end` is where that tag starts).
    std::string render(std::size_t pos, const nlohmann::json& data, bool in_loop,
                       std::size_t* loop_end, std::size_t* after_end) const {
        std::string out;
        while (true) {
            std::size_t open = text.find("{{", pos);
            if (open == std::string::npos) {
                if (in_loop) throw InputError("template " + where(pos) + ": '{{#each' is not closed by '{{/each}}'");
                out.append(text, pos, std::string::npos);
                return out;
            }
            out.append(text, pos, open - pos);
            auto [name, next] = tag(open);
            if (name == kEnd) {
                if (!in_loop) throw InputError("template " + where(open) + ": '{{/each}}' without '{{#each'");
                *loop_end = open;
                *after_end = next;
                return out;
            }
            if (name.rfind(kEach, 0) == 0) {
                const std::string list = trimmed(name.substr(kEach.size()));
                if (!valid_name(list))
                    throw InputError("template " + where(open) + ": '{{#each' needs a variable name");
                const nlohmann::json* node = lookup(data, list);
                if (node == nullptr || !node->is_array())
                    throw InputError("template " + where(open) + ": '" + list + "' is not a list");
                if (node->empty()) {
                    pos = skip_loop(next, open);
                    continue;
                }
                std::size_t body_end = 0, after = 0;
                nlohmann::json scope = data;
                for (std::size_t i = 0; i < node->size(); ++i) {
                    scope["index"] = i;
                    scope["item"] = (*node)[i];
                    out += render(next, scope, true, &body_end, &after);
                }
                pos = after;
                continue;
            }
            if (!valid_name(name))
                throw InputError("template " + where(open) + ": '" + name.substr(0, 40) + "' is not a variable name");
            const nlohmann::json* node = lookup(data, name);
            if (node == nullptr || node->is_null())
                throw InputError("template " + where(open) + ": variable '" + name + "' is not set");
            std::string value;
            if (node->is_string()) {
                value = node->get<std::string>();
            } else if (node->is_number() || node->is_boolean()) {
                value = node->dump();
            } else {
                throw InputError("template " + where(open) + ": variable '" + name + "' is an " +
                                 (node->is_array() ? "array" : "object") + ", not text");
            }
            out += escaping == TemplateEscaping::kHtml ? html_escape(value) : value;
            pos = next;
        }
    }
};

}  // namespace

std::string render_template_text(const std::string& text, const nlohmann::json& data,
                                 TemplateEscaping escaping, const std::string& source_name) {
    Renderer r{text, escaping, source_name};
    return r.render(0, data, false, nullptr, nullptr);
}

}  // namespace artistsaid::plugins
