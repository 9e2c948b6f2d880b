// Where a character of a string inside a ValueTemplate was written in the file.
#pragma once

#include <cstddef>
#include <string>

#include "engine/workflow/diagnostics.hpp"
#include "engine/workflow/value_template.hpp"

namespace artistsaid::workflow::detail {

/// The location of byte `offset` of the string at `pointer` in `value`, or of the value's
/// start if the string or its origin is unknown.
SourceLocation locate(const Diagnostics& diagnostics, const ValueTemplate& value,
                      const std::string& pointer, std::size_t offset,
                      const SourceLocation& fallback);

}  // namespace artistsaid::workflow::detail
