#include "cli/command.hpp"

namespace artistsaid::cli {

const Command* Command::child(const std::string& child_name) const {
    for (const auto& c : children)
        if (c.name == child_name) return &c;
    return nullptr;
}

}  // namespace artistsaid::cli
