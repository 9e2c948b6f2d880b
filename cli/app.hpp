// The artistsaid entry point: parses the command line against the command tree,
// loads configuration, sets up logging, runs the command, and turns every error into a
// one-line message and an exit code (0 done, 1 failed, 2 bad usage/input, 3 unavailable).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace artistsaid::cli {

int run(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);

}  // namespace artistsaid::cli
