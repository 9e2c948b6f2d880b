// SIGTERM and SIGINT for a long-running command (scheduler, serve): blocked in every thread
// — construct it before any thread starts, so threads inherit the mask — and taken with
// sigtimedwait, so a signal ends a sleep at once and never interrupts work half-way.
#pragma once

#include <signal.h>

#include <chrono>

namespace artistsaid::cli {

class StopSignals {
public:
    StopSignals();
    /// Waits up to `timeout`; true if a stop signal arrived.
    bool wait(std::chrono::milliseconds timeout) const;

private:
    sigset_t set_;
};

}  // namespace artistsaid::cli
