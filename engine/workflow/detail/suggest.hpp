// "did you mean …?" hints for the workflow language.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace artistsaid::workflow::detail {

/// "did you mean 'steps'?" for the closest candidate, or "" if none is close. Uses
/// closest_match() (engine/core/suggest.hpp) and also accepts one swap of two adjacent
/// characters ("stpes" → "steps"), the most common typo, which plain edit distance counts
/// as two edits.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace artistsaid::workflow::detail
