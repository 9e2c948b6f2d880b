// When a failed job runs again: exponential backoff with full jitter, bounded by a
// maximum delay, for at most `max_attempts` deliveries. Thread-safety: value type.
#pragma once

#include <chrono>
#include <cstdint>

namespace artistsaid::queue {

struct RetryPolicy {
    int max_attempts = 5;                                // deliveries in all, >= 1
    std::chrono::milliseconds base_delay{1000};          // delay after the first failure
    std::chrono::milliseconds max_delay{3600 * 1000};    // cap on any one delay
    bool jitter = true;                                  // "equal jitter" (AWS architecture blog)

    /// The delay before attempt `failed_attempt + 1`: base * 2^(failed_attempt-1), capped,
    /// then (with jitter) uniformly drawn from [delay/2, delay] so retries of many jobs
    /// that failed together spread out. `random` is any uniformly distributed 64-bit value.
    std::chrono::milliseconds backoff(int failed_attempt, uint64_t random) const;
};

}  // namespace artistsaid::queue
