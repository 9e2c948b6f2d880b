#include "engine/queue/retry_policy.hpp"

#include <algorithm>

namespace artistsaid::queue {

std::chrono::milliseconds RetryPolicy::backoff(int failed_attempt, uint64_t random) const {
    int64_t base = std::max<int64_t>(0, base_delay.count());
    int64_t cap = std::max<int64_t>(base, max_delay.count());
    int64_t delay = base;
    for (int i = 1; i < failed_attempt && delay < cap; ++i) delay = std::min(cap, delay * 2);
    delay = std::min(delay, cap);
    if (jitter && delay > 1) {
        int64_t half = delay / 2;
        delay = half + static_cast<int64_t>(random % static_cast<uint64_t>(delay - half + 1));
    }
    return std::chrono::milliseconds(delay);
}

}  // namespace artistsaid::queue
