#include <csignal>
#include <iostream>

#include "cli/app.hpp"

int main(int argc, char** argv) {
    // hiredis writes with write(2): a write on a connection the peer closed, or that a
    // shutting-down worker interrupted, must fail with EPIPE, not end the process.
    std::signal(SIGPIPE, SIG_IGN);
    std::vector<std::string> args(argv + 1, argv + argc);
    return artistsaid::cli::run(args, std::cout, std::cerr);
}
