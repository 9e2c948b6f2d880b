// Running a shell command from a test and reading its standard output (e.g. the openssl
// command line, to compute a signature independently of the code under test).
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace artistsaid::test {

struct ShellResult {
    int status = -1;  // the exit status; -1 if killed by a signal, -2 if it could not start
    std::string out;  // stdout, without trailing newlines
};

inline ShellResult run_shell(const std::string& command) {
    ShellResult result;
    std::FILE* p = ::popen(command.c_str(), "r");
    if (p == nullptr) {
        result.status = -2;
        return result;
    }
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) result.out.append(buf, n);
    int rc = ::pclose(p);
    result.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    while (!result.out.empty() && (result.out.back() == '\n' || result.out.back() == '\r'))
        result.out.pop_back();
    return result;
}

}  // namespace artistsaid::test
