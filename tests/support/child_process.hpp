// A background child process for tests (a worker, a server): started with extra
// environment, output captured to a file, signalled and waited for with deadlines.
// The destructor kills it (SIGKILL) if it is still running.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace artistsaid::test {

class ChildProcess {
public:
    ChildProcess(const std::string& binary, const std::vector<std::string>& args,
                 const std::map<std::string, std::string>& env = {});
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    pid_t pid() const { return pid_; }
    void signal(int sig) const;
    /// Waits for the exit; returns the exit code (128+signal if killed), or nullopt on timeout.
    std::optional<int> wait(std::chrono::milliseconds timeout);
    bool running();
    /// Everything the process wrote to stdout and stderr so far.
    std::string output() const;

private:
    pid_t pid_ = -1;
    std::optional<int> status_;
    std::string log_path_;
};

/// Polls `condition` every 20 ms until it holds or `timeout` passes; returns whether it held.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) return true;
        struct timespec ts{0, 20'000'000};
        nanosleep(&ts, nullptr);
    }
    return condition();
}

}  // namespace artistsaid::test
