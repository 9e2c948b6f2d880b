#include "engine/workflow/detail/names.hpp"

namespace artistsaid::workflow::detail {
namespace {

bool lower(char c) { return c >= 'a' && c <= 'z'; }
bool digit(char c) { return c >= '0' && c <= '9'; }
bool letter(char c) { return lower(c) || (c >= 'A' && c <= 'Z'); }

}  // namespace

bool is_identifier(std::string_view name) noexcept {
    if (name.empty() || name.size() > 64 || !(lower(name[0]) || name[0] == '_')) return false;
    for (char c : name)
        if (!(lower(c) || digit(c) || c == '_')) return false;
    return true;
}

bool is_workflow_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > 100 || !lower(name[0])) return false;
    if (!(lower(name.back()) || digit(name.back()))) return false;
    for (char c : name)
        if (!(lower(c) || digit(c) || c == '_' || c == '-' || c == '.')) return false;
    return true;
}

bool is_event_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > 200) return false;
    bool word_start = true;
    for (char c : name) {
        if (c == '.') {
            if (word_start) return false;
            word_start = true;
            continue;
        }
        if (word_start && !lower(c)) return false;
        if (!(lower(c) || digit(c) || c == '_')) return false;
        word_start = false;
    }
    return !word_start;
}

bool is_webhook_event(std::string_view name) noexcept {
    if (name.empty() || name.size() > 200) return false;
    for (char c : name)
        if (c <= ' ' || c > '~') return false;
    return true;
}

bool is_timezone_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > 64 || name.front() == '/' || name.back() == '/') return false;
    bool has_slash = false;
    char previous = 0;
    for (char c : name) {
        if (c == '/') {
            if (previous == '/') return false;
            has_slash = true;
        } else if (!(letter(c) || digit(c) || c == '_' || c == '-' || c == '+')) {
            return false;
        }
        previous = c;
    }
    return has_slash || name == "UTC" || name == "GMT";
}

}  // namespace artistsaid::workflow::detail
