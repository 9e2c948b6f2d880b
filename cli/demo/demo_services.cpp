#include "cli/demo/demo_services.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <vector>

#include "engine/core/error.hpp"

namespace artistsaid::cli {
namespace {

struct Finished {
    int status = -1;  // exit status, or 128 + signal
    std::string out;
};

// Runs `argv` with stdout captured (stderr inherited) until it exits or `timeout` passes
// (then its process group is killed).
Finished run_capturing(const std::vector<std::string>& argv, std::chrono::seconds timeout) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        throw UnavailableError(std::string("demo: pipe failed: ") + std::strerror(errno));
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        throw UnavailableError(std::string("demo: fork failed: ") + std::strerror(errno));
    }
    if (pid == 0) {
        ::setpgid(0, 0);
        ::signal(SIGPIPE, SIG_DFL);  // ignored by the CLI; an ignored signal survives exec
        ::dup2(fds[1], STDOUT_FILENO);
        ::execv(args[0], args.data());
        _exit(127);
    }
    ::setpgid(pid, pid);
    ::close(fds[1]);
    Finished f;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[4096];
    bool open = true;
    while (open) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            ::kill(-pid, SIGKILL);
            break;
        }
        pollfd p{fds[0], POLLIN, 0};
        int ready = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
        if (ready < 0 && errno != EINTR) break;
        if (ready <= 0) continue;
        ssize_t n = ::read(fds[0], buf, sizeof buf);
        if (n > 0) {
            if (f.out.size() < 1024 * 1024) f.out.append(buf, static_cast<std::size_t>(n));
        } else if (n == 0 || errno != EINTR) {
            open = false;
        }
    }
    ::close(fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    f.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return f;
}

// The value of `export NAME=VALUE` in the script's output (printf %q quoting: URLs of
// 127.0.0.1 servers need none, and anything quoted is refused rather than misread).
std::string exported(const std::string& out, const std::string& name) {
    std::istringstream lines(out);
    std::string line;
    const std::string prefix = "export " + name + "=";
    while (std::getline(lines, line)) {
        if (line.rfind(prefix, 0) != 0) continue;
        std::string value = line.substr(prefix.size());
        if (value.find_first_of("'\"\\$ ") != std::string::npos)
            throw UnavailableError("demo: cannot read " + name + " from scripts/services.sh");
        return value;
    }
    throw UnavailableError("demo: scripts/services.sh did not report " + name);
}

}  // namespace

DemoServices::DemoServices(std::string script, std::string directory)
    : script_(std::move(script)), directory_(std::move(directory)) {}

DemoServiceUrls DemoServices::up(std::chrono::seconds timeout) const {
    if (!std::filesystem::is_regular_file(script_))
        throw InputError("demo: " + script_ + " not found (set ARTISTSAID_DATABASE_URL and "
                         "ARTISTSAID_REDIS_URL to use your own servers)");
    auto f = run_capturing({"/bin/bash", script_, "up", directory_}, timeout);
    if (f.status != 0)
        throw UnavailableError("demo: could not start PostgreSQL and Redis in " + directory_ +
                               " (scripts/services.sh up exited with " + std::to_string(f.status) + ")");
    return {exported(f.out, "ARTISTSAID_DATABASE_URL"), exported(f.out, "ARTISTSAID_REDIS_URL")};
}

int DemoServices::down(std::chrono::seconds timeout) const {
    if (!std::filesystem::is_regular_file(script_)) throw InputError("demo: " + script_ + " not found");
    return run_capturing({"/bin/bash", script_, "down", directory_}, timeout).status;
}

}  // namespace artistsaid::cli
