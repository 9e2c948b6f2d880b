// "Did you mean …?" for misspelled keys, commands and step ids.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace artistsaid {

/// Levenshtein distance (insert, delete, substitute each cost 1).
size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate closest to `word`, if it is close enough to be a plausible typo
/// (distance at most a third of the word's length, and at least 1 edit allowed).
std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates);

}  // namespace artistsaid
