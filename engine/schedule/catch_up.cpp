#include "engine/schedule/catch_up.hpp"

#include <algorithm>
#include <deque>

#include "engine/core/error.hpp"

namespace artistsaid::schedule {

using std::chrono::seconds;
using std::chrono::sys_seconds;

namespace {

// Slots in (after, until], counted up to kSkippedCountLimit.
void count_skipped(const CronSchedule& schedule, const TimeZone& zone, sys_seconds after,
                   sys_seconds until, DueSlots& out) {
    std::optional<sys_seconds> next = after;
    while ((next = schedule.next_after(*next, zone)) && *next <= until) {
        if (out.skipped == kSkippedCountLimit) {
            out.skipped_is_lower_bound = true;
            return;
        }
        ++out.skipped;
    }
}

// The newest `n` slots in (after, until], oldest first. Looks back over a window that
// doubles from one hour, so the work is about the slots in the last window, not in the
// whole (possibly years-long) range.
std::vector<sys_seconds> newest_slots(const CronSchedule& schedule, const TimeZone& zone,
                                      sys_seconds after, sys_seconds until, std::size_t n) {
    for (seconds window{3600};; window *= 2) {
        const bool whole_range = until - after <= window;
        const sys_seconds lower = whole_range ? after : until - window;
        std::deque<sys_seconds> newest;
        std::size_t found = 0;
        std::optional<sys_seconds> next = lower;
        while ((next = schedule.next_after(*next, zone)) && *next <= until) {
            ++found;
            newest.push_back(*next);
            if (newest.size() > n) newest.pop_front();
        }
        if (found >= n || whole_range) return {newest.begin(), newest.end()};
    }
}

}  // namespace

std::string_view to_string(CatchUpPolicy policy) noexcept {
    switch (policy) {
        case CatchUpPolicy::kNone:
            return "none";
        case CatchUpPolicy::kLatest:
            return "latest";
        case CatchUpPolicy::kAll:
            return "all";
    }
    return "none";
}

DueSlots due_slots(const CronSchedule& schedule, const TimeZone& zone,
                   std::optional<sys_seconds> last_fired, sys_seconds now, CatchUpPolicy policy,
                   const CatchUpOptions& options) {
    if (options.cap == 0) throw InputError("catch-up cap must be at least 1");
    if (options.on_time_tolerance < seconds{0})
        throw InputError("catch-up on-time tolerance must not be negative");
    DueSlots out;
    // Slots after `on_time_after` are on time; without a last slot nothing older is due.
    const sys_seconds on_time_after = now - options.on_time_tolerance - seconds{1};
    const sys_seconds after =
        std::max(last_fired.value_or(on_time_after), TimeZone::kMinInstant - seconds{1});
    if (after >= now) return out;

    switch (policy) {
        case CatchUpPolicy::kNone: {
            const sys_seconds from = std::max(after, on_time_after);
            out.fire = schedule.fire_times_between(from, now, zone, options.cap);
            count_skipped(schedule, zone, after, from, out);
            break;
        }
        case CatchUpPolicy::kLatest:
        case CatchUpPolicy::kAll: {
            const std::size_t n = policy == CatchUpPolicy::kLatest ? 1 : options.cap;
            out.fire = newest_slots(schedule, zone, after, now, n);
            if (!out.fire.empty())
                count_skipped(schedule, zone, after, out.fire.front() - seconds{1}, out);
            break;
        }
    }
    return out;
}

}  // namespace artistsaid::schedule
