// The email templates folder. A template NAME in locale L is three files:
//   <dir>/NAME/subject.L.txt   one line
//   <dir>/NAME/body.L.txt      the text part
//   <dir>/NAME/body.L.html     the HTML part (optional: without it the mail is text only)
// A locale falls back along its tags ("de-AT" → "de") and then to the default locale.
// Files are read at each render, so editing a template needs no restart.
// Thread-safety: const and stateless beyond the directory name; safe to share.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace artistsaid::plugins {

struct RenderedEmail {
    std::string subject;
    std::string text;
    std::optional<std::string> html;
    std::string locale;  // the locale whose files were used
};

class EmailTemplates {
public:
    EmailTemplates(std::string directory, std::string default_locale = "en");

    /// Renders NAME for `locale` with `data`; InputError for an unknown template, a bad
    /// name or locale, or a missing variable (named with file and line).
    RenderedEmail render(const std::string& name, const std::string& locale,
                         const nlohmann::json& data) const;

private:
    std::string directory_;
    std::string default_locale_;
};

}  // namespace artistsaid::plugins
