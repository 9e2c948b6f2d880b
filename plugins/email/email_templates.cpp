#include "plugins/email/email_templates.hpp"

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <vector>

#include "engine/core/error.hpp"
#include "plugins/email/template_text.hpp"

namespace artistsaid::plugins {
namespace {

constexpr std::uintmax_t kMaxTemplateBytes = 1024 * 1024;

std::optional<std::string> read_file(const std::filesystem::path& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
    if (std::filesystem::file_size(path, ec) > kMaxTemplateBytes)
        throw InputError("template " + path.string() + " is larger than 1 MiB");
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

EmailTemplates::EmailTemplates(std::string directory, std::string default_locale)
    : directory_(std::move(directory)), default_locale_(std::move(default_locale)) {}

RenderedEmail EmailTemplates::render(const std::string& name, const std::string& locale,
                                     const nlohmann::json& data) const {
    static const std::regex name_re("[a-z0-9][a-z0-9_-]{0,63}");
    static const std::regex locale_re("[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*");
    if (!std::regex_match(name, name_re))
        throw InputError("email.send: template name '" + name.substr(0, 40) +
                         "' must be lower-case letters, digits, '-' or '_'");
    if (!std::regex_match(locale, locale_re))
        throw InputError("email.send: locale '" + locale.substr(0, 20) + "' is not a language tag like en or de-AT");
    std::vector<std::string> candidates;
    for (std::string l = locale;;) {
        candidates.push_back(l);
        auto dash = l.rfind('-');
        if (dash == std::string::npos) break;
        l.resize(dash);
    }
    if (std::find(candidates.begin(), candidates.end(), default_locale_) == candidates.end())
        candidates.push_back(default_locale_);

    const std::filesystem::path dir = std::filesystem::path(directory_) / name;
    for (const auto& l : candidates) {
        auto subject = read_file(dir / ("subject." + l + ".txt"));
        if (!subject) continue;
        auto text = read_file(dir / ("body." + l + ".txt"));
        if (!text)
            throw InputError("email template " + name + " has subject." + l + ".txt but no body." + l + ".txt");
        auto html = read_file(dir / ("body." + l + ".html"));
        RenderedEmail out;
        out.locale = l;
        std::string prefix = name + "/";
        out.subject = render_template_text(*subject, data, TemplateEscaping::kNone,
                                           prefix + "subject." + l + ".txt");
        while (!out.subject.empty() && (out.subject.back() == '\n' || out.subject.back() == '\r'))
            out.subject.pop_back();
        if (out.subject.find_first_of("\r\n") != std::string::npos)
            throw InputError("email template " + prefix + "subject." + l + ".txt renders to more than one line");
        out.text = render_template_text(*text, data, TemplateEscaping::kNone, prefix + "body." + l + ".txt");
        if (html)
            out.html = render_template_text(*html, data, TemplateEscaping::kHtml, prefix + "body." + l + ".html");
        return out;
    }
    throw InputError("no email template '" + name + "' for locale " + locale + " (looked for " +
                     (dir / ("subject." + candidates.front() + ".txt")).string() + " and fallbacks)",
                     ErrorCode::kNotFound);
}

}  // namespace artistsaid::plugins
