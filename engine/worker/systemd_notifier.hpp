// sd_notify without libsystemd: plain datagrams to $NOTIFY_SOCKET (READY=1, WATCHDOG=1,
// STOPPING=1, STATUS=…). Does nothing when the variable is unset, so the worker runs the
// same under systemd, cron or a terminal. Thread-safety: notify() may be called from any
// thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace artistsaid::worker {

class SystemdNotifier {
public:
    /// Reads NOTIFY_SOCKET and WATCHDOG_USEC (honouring WATCHDOG_PID) from the environment.
    SystemdNotifier();

    bool enabled() const { return !socket_path_.empty(); }
    /// Sends one state line or several separated by '\n'. Returns false on failure.
    bool notify(const std::string& state) const;
    /// Half the watchdog interval systemd expects pings at, if the watchdog is on.
    std::optional<std::chrono::microseconds> watchdog_interval() const { return watchdog_; }

private:
    std::string socket_path_;
    std::optional<std::chrono::microseconds> watchdog_;
};

}  // namespace artistsaid::worker
