#include "cli/stop_signals.hpp"

#include <pthread.h>

#include <algorithm>
#include <ctime>

namespace artistsaid::cli {

StopSignals::StopSignals() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
}

bool StopSignals::wait(std::chrono::milliseconds timeout) const {
    const long long ms = std::max<long long>(0, timeout.count());
    struct timespec ts {
        static_cast<time_t>(ms / 1000), static_cast<long>((ms % 1000) * 1'000'000)
    };
    return sigtimedwait(&set_, nullptr, &ts) > 0;
}

}  // namespace artistsaid::cli
