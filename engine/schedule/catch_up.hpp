// Catch-up: which slots of a schedule are due when a tick runs, given the last slot that
// fired and the schedule's policy for slots missed while nothing ran.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "engine/schedule/cron_schedule.hpp"
#include "engine/schedule/time_zone.hpp"

namespace artistsaid::schedule {

/// What to do with slots that are due but late (the engine was down or no tick ran).
/// docs/schedules.md ("Catch-up") is the user's description.
enum class CatchUpPolicy {
    kNone,    // only on-time slots fire (at most `on_time_tolerance` old); late ones are skipped
    kLatest,  // the newest due slot fires, however late; older ones are skipped
    kAll,     // every due slot fires, oldest first — at most `cap`, keeping the newest
};

std::string_view to_string(CatchUpPolicy policy) noexcept;

/// A slot this old or younger is on time, not missed: the tick that sees it is simply the
/// tick of that minute (cron starts `tick` a moment after the minute begins).
inline constexpr std::chrono::seconds kDefaultOnTimeTolerance{60};
/// At most this many slots fire for one schedule in one catch-up under `all`.
inline constexpr std::size_t kDefaultCatchUpCap = 100;
/// Skipped slots are counted up to this many (then `skipped_is_lower_bound` is set), so a
/// minutely schedule after a year of downtime costs one bounded count, not 525,600 steps.
inline constexpr std::size_t kSkippedCountLimit = 10'000;

struct CatchUpOptions {
    std::chrono::seconds on_time_tolerance = kDefaultOnTimeTolerance;
    std::size_t cap = kDefaultCatchUpCap;  // at least 1
};

/// The decision for one schedule at one tick.
struct DueSlots {
    std::vector<std::chrono::sys_seconds> fire;  // slots to fire now, oldest first
    std::size_t skipped = 0;                     // due slots that will never fire
    bool skipped_is_lower_bound = false;         // counting stopped at kSkippedCountLimit

    /// The newest slot fired; the caller's `last_fired` for the next tick (if it fired).
    std::optional<std::chrono::sys_seconds> newest() const {
        return fire.empty() ? std::nullopt : std::optional(fire.back());
    }
};

/// The slots of `schedule` in `zone` due at `now`. Due slots are those after `last_fired`
/// and at or before `now`. Without `last_fired` (a new schedule, or one that never fired)
/// nothing before `now - on_time_tolerance` counts as missed: history is not caught up.
/// A `last_fired` after `now` (another node's clock ran ahead) makes nothing due.
///
/// Pure and deterministic: the caller supplies the clock and records what fired; firing
/// each slot exactly once across concurrent ticks is the caller's unique (schedule, slot)
/// row. Throws InputError if options.cap is 0.
DueSlots due_slots(const CronSchedule& schedule, const TimeZone& zone,
                   std::optional<std::chrono::sys_seconds> last_fired, std::chrono::sys_seconds now,
                   CatchUpPolicy policy, const CatchUpOptions& options = {});

}  // namespace artistsaid::schedule
