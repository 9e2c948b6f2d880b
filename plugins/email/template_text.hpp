// The `{{ name.path }}` substitution of email templates. Deliberately tiny: no logic, no
// loops — a variable is a dotted path into the data object. A missing (or null) variable,
// an object or array where text is expected, or an unclosed `{{` is an InputError naming
// the template file and line. In HTML templates every value is HTML-escaped.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace artistsaid::plugins {

enum class TemplateEscaping { kNone, kHtml };

std::string render_template_text(const std::string& text, const nlohmann::json& data,
                                 TemplateEscaping escaping, const std::string& source_name);

std::string html_escape(const std::string& text);

}  // namespace artistsaid::plugins
