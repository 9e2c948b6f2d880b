#include "engine/workflow/detail/suggest.hpp"

#include <utility>

#include "engine/core/suggest.hpp"

namespace artistsaid::workflow::detail {
namespace {

bool one_swap_apart(std::string_view a, std::string_view b) {
    if (a.size() != b.size() || a.size() < 2) return false;
    std::size_t first = 0;
    while (first < a.size() && a[first] == b[first]) ++first;
    if (first + 1 >= a.size()) return false;
    if (a[first] != b[first + 1] || a[first + 1] != b[first]) return false;
    return a.substr(first + 2) == b.substr(first + 2);
}

}  // namespace

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
    if (auto m = closest_match(word, candidates)) return "did you mean '" + *m + "'?";
    for (const auto& c : candidates)
        if (one_swap_apart(word, c)) return "did you mean '" + c + "'?";
    return "";
}

}  // namespace artistsaid::workflow::detail
