#include "plugins/email/email_templates.hpp"

#include <filesystem>
#include <regex>
#include <vector>

#include "engine/core/error.hpp"
#include "plugins/email/template_text.hpp"

namespace artistsaid::plugins {

EmailTemplates::EmailTemplates(std::string directory, std::string default_locale)
    : directory_(std::move(directory)), default_locale_(std::move(default_locale)) {}

RenderedEmail EmailTemplates::render(const std::string& name, const std::string& locale,
                                     const nlohmann::json& data) const {
    static const std::regex name_re("[a-z0-9][a-z0-9_-]{0,63}");
    if (!std::regex_match(name, name_re))
        throw InputError("email.send: template name '" + name.substr(0, 40) +
                         "' must be lower-case letters, digits, '-' or '_'");
    const auto candidates = template_locales(locale, default_locale_, "email.send");

    const std::filesystem::path dir = std::filesystem::path(directory_) / name;
    for (const auto& l : candidates) {
        auto subject = read_template_file(dir / ("subject." + l + ".txt"));
        if (!subject) continue;
        auto text = read_template_file(dir / ("body." + l + ".txt"));
        if (!text)
            throw InputError("email template " + name + " has subject." + l + ".txt but no body." + l + ".txt");
        auto html = read_template_file(dir / ("body." + l + ".html"));
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
