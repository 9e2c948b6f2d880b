#include "engine/workflow/detail/template_locations.hpp"

namespace artistsaid::workflow::detail {

SourceLocation locate(const Diagnostics& diagnostics, const ValueTemplate& value,
                      const std::string& pointer, std::size_t offset,
                      const SourceLocation& fallback) {
    const auto* origin = value.origin(pointer);
    if (origin == nullptr) return fallback;
    nlohmann::json::json_pointer ptr(pointer);
    if (!value.raw().contains(ptr) || !value.raw()[ptr].is_string()) return origin->value;
    return diagnostics.inside(origin->value, value.raw()[ptr].get<std::string>(), offset);
}

}  // namespace artistsaid::workflow::detail
