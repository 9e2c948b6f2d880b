// Runs the built artistsaid binary as a child process, as an operator or cron would,
// and captures what it printed and how it exited.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace artistsaid::test {

struct CliResult {
    int exit_code = -1;      // the process's exit status; -1 if killed by the timeout
    std::string out;         // stdout
    std::string err;         // stderr
    std::chrono::milliseconds elapsed{0};
};

struct CliOptions {
    /// Variables to set (or, with an empty value, to remove) on top of this process's env.
    std::map<std::string, std::string> env;
    /// ARTISTSAID_* variables of the test process are removed unless set here.
    bool clear_artistsaid_env = true;
    std::string working_dir;
    std::chrono::milliseconds timeout{std::chrono::seconds(60)};
};

CliResult run_cli(const std::vector<std::string>& args, const CliOptions& options = {});

}  // namespace artistsaid::test
