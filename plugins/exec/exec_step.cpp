#include "plugins/exec/exec_step.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "engine/core/error.hpp"
#include "plugins/common/step_inputs.hpp"

namespace artistsaid::plugins {
namespace {

using workflow::FieldDescriptor;
using workflow::ValueType;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxStdout = 1024 * 1024;
constexpr std::size_t kKeptStderr = 2048;
constexpr int kTempFail = 75;

// Closes a file descriptor it owns.
class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    ~Fd() { reset(); }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }
    void reset(int fd = -1) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_;
};

std::string rfc3339(std::chrono::system_clock::time_point t) {
    std::time_t tt = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

// Kills the child's whole process group and reaps the child, whatever happens.
class ChildGroup {
public:
    explicit ChildGroup(pid_t pid) : pid_(pid) {}
    ~ChildGroup() {
        if (pid_ > 0) {
            ::kill(-pid_, SIGKILL);
            int status = 0;
            while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
            }
        }
    }
    ChildGroup(const ChildGroup&) = delete;
    ChildGroup& operator=(const ChildGroup&) = delete;
    /// Reaps the child if it exits before `deadline`; still kills its group (stragglers).
    std::optional<int> wait_exit(Clock::time_point deadline) {
        int status = 0;
        while (true) {
            pid_t r = ::waitpid(pid_, &status, WNOHANG);
            if (r == pid_) break;
            if (r < 0 && errno != EINTR) break;
            if (Clock::now() >= deadline) return std::nullopt;
            ::usleep(5000);
        }
        ::kill(-pid_, SIGKILL);
        pid_ = -1;
        return status;
    }

private:
    pid_t pid_;
};

// A write to a pipe whose reader exited raises SIGPIPE, which would end the worker: block
// it on this thread for the write and consume one it raised.
ssize_t write_without_sigpipe(int fd, const char* data, std::size_t size) {
    sigset_t pipe_set, old;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    ssize_t put = ::write(fd, data, size);
    int saved = errno;
    if (put < 0 && errno == EPIPE) {
        timespec zero{0, 0};
        sigtimedwait(&pipe_set, nullptr, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    errno = saved;
    return put;
}

}  // namespace

ExecStep::ExecStep(std::optional<std::string> directory) : directory_(std::move(directory)) {}

const workflow::StepTypeDescriptor& ExecStep::descriptor() const {
    static const workflow::StepTypeDescriptor d{
        "exec",
        "runs an executable from the plugin directory: JSON on stdin, JSON on stdout",
        {
            FieldDescriptor{"command", ValueType::kString, true,
                            "file name inside the plugin directory (ARTISTSAID_EXEC_DIR)", {}},
            FieldDescriptor{"input", ValueType::kAny, false, "sent as stdin's `input`", {}},
            FieldDescriptor{"timeout", ValueType::kDuration, false, "default 60s", {}},
        },
        {
            FieldDescriptor{"result", ValueType::kObject, false, "the JSON object it printed", {}},
        }};
    return d;
}

std::string ExecStep::resolve(const std::string& command) const {
    if (!directory_) throw InputError("exec: no plugin directory is configured (ARTISTSAID_EXEC_DIR)");
    namespace fs = std::filesystem;
    if (command.empty() || command.front() == '/' || command.find('\0') != std::string::npos)
        throw InputError("exec: 'command' must be a file name inside the plugin directory");
    for (const auto& part : fs::path(command))
        if (part == "..") throw InputError("exec: 'command' may not contain '..'");
    std::error_code ec;
    fs::path dir = fs::canonical(*directory_, ec);
    if (ec) throw InputError("exec: the plugin directory " + *directory_ + " does not exist");
    fs::path target = fs::canonical(dir / command, ec);
    if (ec) throw InputError("exec: no executable '" + command + "' in the plugin directory");
    // After resolving every symlink the file must still be inside the directory.
    auto rel = target.lexically_relative(dir);
    if (rel.empty() || *rel.begin() == "..")
        throw InputError("exec: '" + command + "' resolves outside the plugin directory");
    struct stat st {};
    if (::stat(target.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || ::access(target.c_str(), X_OK) != 0)
        throw InputError("exec: '" + command + "' is not an executable file");
    return target.string();
}

runtime::StepResult ExecStep::run(const runtime::StepCall& call) {
    StepInputs in("exec", call.with);
    const std::string command = in.string("command");
    const std::string path = resolve(command);
    auto timeout = in.duration_or("timeout", std::chrono::seconds(60));
    auto deadline = Clock::now() + timeout;
    auto step_left = call.deadline - std::chrono::system_clock::now();
    if (Clock::now() + step_left < deadline) deadline = Clock::now() + step_left;

    const std::string stdin_text =
        nlohmann::json{{"input", in.value("input")},
                       {"run_id", call.run_id},
                       {"step_id", call.step_id},
                       {"item_index", call.item_index},
                       {"attempt", call.attempt},
                       {"idempotency_key", call.idempotency_key},
                       {"deadline", rfc3339(call.deadline)}}
            .dump() +
        "\n";

    int in_pipe[2], out_pipe[2], err_pipe[2];
    if (::pipe2(in_pipe, O_CLOEXEC) != 0) throw WorkError("exec: pipe failed");
    Fd in_r(in_pipe[0]), in_w(in_pipe[1]);
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw WorkError("exec: pipe failed");
    Fd out_r(out_pipe[0]), out_w(out_pipe[1]);
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) throw WorkError("exec: pipe failed");
    Fd err_r(err_pipe[0]), err_w(err_pipe[1]);

    // Everything the child needs is prepared before fork (no allocation after it).
    std::string dir = std::filesystem::path(path).parent_path().string();
    std::vector<std::string> env_strings{"PATH=/usr/bin:/bin", "LANG=C.UTF-8", "HOME=/nonexistent",
                                         "ARTISTSAID_IDEMPOTENCY_KEY=" + call.idempotency_key};
    std::vector<char*> envp;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::string argv0 = path;
    char* argv[] = {argv0.data(), nullptr};

    pid_t pid = ::fork();
    if (pid < 0) throw WorkError(std::string("exec: fork failed: ") + std::strerror(errno));
    if (pid == 0) {
        ::setpgid(0, 0);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        ::signal(SIGPIPE, SIG_DFL);  // the worker ignores it; an ignored signal survives exec
        ::dup2(in_r.get(), STDIN_FILENO);
        ::dup2(out_w.get(), STDOUT_FILENO);
        ::dup2(err_w.get(), STDERR_FILENO);
        ::close_range(3, ~0U, 0);  // no inherited descriptors (database sockets, ...)
        if (::chdir(dir.c_str()) != 0) _exit(126);
        ::execve(path.c_str(), argv, envp.data());
        _exit(127);
    }
    ::setpgid(pid, pid);  // also from the parent, so the group exists before any kill
    ChildGroup child(pid);
    in_r.reset();
    out_w.reset();
    err_w.reset();

    std::string out, err;
    std::size_t written = 0;
    bool overflow = false;
    ::fcntl(in_w.get(), F_SETFL, O_NONBLOCK);
    if (stdin_text.empty()) in_w.reset();
    while (out_r.get() >= 0 || err_r.get() >= 0) {
        if (call.should_stop != nullptr && call.should_stop->load())
            return runtime::StepResult::failure("exec: '" + command + "' stopped (worker shutdown)");
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0)
            return runtime::StepResult::failure(
                "exec: '" + command + "' ran past its timeout of " +
                std::to_string(timeout.count()) + " ms and was killed");
        pollfd fds[3];
        nfds_t n = 0;
        fds[n++] = {out_r.get(), POLLIN, 0};
        fds[n++] = {err_r.get(), POLLIN, 0};
        if (in_w.get() >= 0) fds[n++] = {in_w.get(), POLLOUT, 0};
        int timeout_ms = static_cast<int>(std::min<long long>(left.count(), 200));
        int ready = ::poll(fds, n, timeout_ms);
        if (ready < 0 && errno != EINTR) throw WorkError("exec: poll failed");
        if (ready <= 0) continue;
        char buf[65536];
        for (nfds_t i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
            ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) {
                (i == 0 ? out_r : err_r).reset();
                continue;
            }
            if (i == 0) {
                if (out.size() + static_cast<std::size_t>(got) > kMaxStdout) {
                    overflow = true;
                    out_r.reset();
                    err_r.reset();
                    break;
                }
                out.append(buf, static_cast<std::size_t>(got));
            } else {
                err.append(buf, static_cast<std::size_t>(got));
                if (err.size() > 2 * kKeptStderr) err.erase(0, err.size() - kKeptStderr);
            }
        }
        if (n == 3 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
            ssize_t put = write_without_sigpipe(in_w.get(), stdin_text.data() + written,
                                                stdin_text.size() - written);
            if (put > 0) written += static_cast<std::size_t>(put);
            if (put < 0 && errno != EAGAIN && errno != EINTR) in_w.reset();  // child closed stdin
            if (written == stdin_text.size()) in_w.reset();
        }
    }
    if (overflow)
        return runtime::StepResult::failure("exec: '" + command + "' printed more than 1 MiB", false);
    // It closed its output; it must still exit within the timeout.
    auto exited = child.wait_exit(deadline);
    if (!exited)
        return runtime::StepResult::failure("exec: '" + command + "' ran past its timeout of " +
                                            std::to_string(timeout.count()) + " ms and was killed");
    int status = *exited;
    if (err.size() > kKeptStderr) err.erase(0, err.size() - kKeptStderr);
    while (!err.empty() && (err.back() == '\n' || err.back() == '\r')) err.pop_back();
    if (WIFSIGNALED(status))
        return runtime::StepResult::failure(
            "exec: '" + command + "' was killed by signal " + std::to_string(WTERMSIG(status)));
    int code = WEXITSTATUS(status);
    if (code != 0)
        return runtime::StepResult::failure(
            "exec: '" + command + "' exited with status " + std::to_string(code) +
                (err.empty() ? "" : ": " + err),
            code == kTempFail);
    nlohmann::json result;
    try {
        result = nlohmann::json::parse(out);
    } catch (const nlohmann::json::parse_error&) {
        return runtime::StepResult::failure("exec: '" + command + "' did not print JSON on stdout",
                                            false);
    }
    if (!result.is_object())
        return runtime::StepResult::failure("exec: '" + command + "' must print a JSON object", false);
    return runtime::StepResult::success({{"result", result}});
}

}  // namespace artistsaid::plugins
