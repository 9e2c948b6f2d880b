#include "engine/worker/systemd_notifier.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace artistsaid::worker {

SystemdNotifier::SystemdNotifier() {
    if (const char* path = std::getenv("NOTIFY_SOCKET"); path != nullptr && *path != '\0')
        socket_path_ = path;
    const char* usec = std::getenv("WATCHDOG_USEC");
    const char* pid = std::getenv("WATCHDOG_PID");
    bool for_us = pid == nullptr || std::strtol(pid, nullptr, 10) == ::getpid();
    if (usec != nullptr && for_us) {
        long long value = std::strtoll(usec, nullptr, 10);
        if (value > 0) watchdog_ = std::chrono::microseconds(value / 2);
    }
}

bool SystemdNotifier::notify(const std::string& state) const {
    if (socket_path_.empty()) return false;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket_path_.size() >= sizeof(addr.sun_path)) return false;
    std::memcpy(addr.sun_path, socket_path_.data(), socket_path_.size());
    socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_path_.size());
    if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
    else len += 1;                                        // include the terminating NUL
    int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    ssize_t sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                            reinterpret_cast<sockaddr*>(&addr), len);
    ::close(fd);
    return sent == static_cast<ssize_t>(state.size());
}

}  // namespace artistsaid::worker
