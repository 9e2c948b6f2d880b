// The `{{ name.path }}` substitution of email and document templates. Deliberately tiny:
// no logic — a variable is a dotted path into the data object — and one loop,
// `{{#each path}} … {{/each}}` over an array, inside which `item` is the element and
// `index` its position (from 0); loops nest (the inner `item` hides the outer). A missing
// (or null) variable, an object or array where text is expected, a loop over something
// that is not an array, an unclosed `{{` or `{{#each`, or a stray `{{/each}}` is an
// InputError naming the template file and line. In HTML templates every value is
// HTML-escaped.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace artistsaid::plugins {

enum class TemplateEscaping { kNone, kHtml };

std::string render_template_text(const std::string& text, const nlohmann::json& data,
                                 TemplateEscaping escaping, const std::string& source_name);

std::string html_escape(const std::string& text);

/// The locales to try for `locale`, most specific first: de-AT → de-AT, de, then
/// `fallback`. InputError if `locale` is not a language tag like en or de-AT.
std::vector<std::string> template_locales(const std::string& locale, const std::string& fallback,
                                          const std::string& who);

/// A template file's text; nullopt if there is no such file. InputError over 1 MiB.
std::optional<std::string> read_template_file(const std::filesystem::path& path);

}  // namespace artistsaid::plugins
