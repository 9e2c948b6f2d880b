// The command tree of the artistsaid CLI: groups ("migrate") hold commands ("up"),
// commands hold their flags and a function to run. Parsing, help at every level, and
// "unknown command / did you mean" live here, so every command behaves the same.
#pragma once

#include <boost/program_options.hpp>

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "engine/core/config.hpp"

namespace artistsaid::cli {

namespace po = boost::program_options;

/// What a command gets to work with.
struct Context {
    Config config;
    bool json = false;                 // --json: machine-readable output
    po::variables_map options;         // the command's own flags
    std::vector<std::string> args;     // positional arguments
    std::ostream& out;
    std::ostream& err;
};

struct Command {
    std::string name;
    std::string summary;
    std::string args_usage;            // e.g. "NAME" — shown in usage lines
    size_t min_args = 0;
    size_t max_args = 0;
    /// Adds the command's own flags (optional).
    std::function<void(po::options_description&)> add_options;
    /// Runs the command; returns the process exit code. Null for groups.
    std::function<int(Context&)> run;
    std::vector<Command> children;

    bool is_group() const { return !children.empty(); }
    const Command* child(const std::string& child_name) const;
};

}  // namespace artistsaid::cli
