#include "engine/queue/job_duration_histogram.hpp"

#include <algorithm>
#include <numeric>

namespace artistsaid::queue {

using std::chrono::microseconds;

long long JobDurations::count() const { return std::accumulate(counts.begin(), counts.end(), 0LL); }

const std::vector<microseconds>& JobDurationHistogram::bounds() {
    // 1 ms to 5 min: a job is a step of a workflow or a plugin call with a deadline.
    static const std::vector<microseconds> b = {
        microseconds(1'000),      microseconds(5'000),      microseconds(10'000),
        microseconds(50'000),     microseconds(100'000),    microseconds(500'000),
        microseconds(1'000'000),  microseconds(5'000'000),  microseconds(10'000'000),
        microseconds(30'000'000), microseconds(60'000'000), microseconds(300'000'000)};
    return b;
}

std::size_t JobDurationHistogram::bucket_of(microseconds duration) {
    const auto& b = bounds();
    return static_cast<std::size_t>(std::lower_bound(b.begin(), b.end(), duration) - b.begin());
}

std::string JobDurationHistogram::field(std::string_view outcome, std::size_t bucket) {
    return std::string(outcome) + ":" + std::to_string(bucket);
}

std::string JobDurationHistogram::sum_field(std::string_view outcome) {
    return std::string(outcome) + ":sum_us";
}

}  // namespace artistsaid::queue
