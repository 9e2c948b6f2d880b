// CronSchedule: a five-field cron expression (Vixie cron's syntax and day rule) and its fire
// times in a time zone, with defined behaviour across daylight-saving changes.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/schedule/cron_syntax_error.hpp"
#include "engine/schedule/time_zone.hpp"

namespace artistsaid::schedule {

/// A parsed cron expression: "minute hour day-of-month month day-of-week" with lists (1,15),
/// ranges (1-5), steps (*/15, 1-30/5, 5/15 = 5-max/15), month names jan-dec and day names
/// sun-sat (any case; 0 and 7 are Sunday), or one of @hourly @daily @midnight @weekly @monthly
/// @yearly @annually. docs/schedules.md is the user's reference.
///
/// Days follow Vixie cron: when both day fields are restricted (neither starts with '*'), a
/// day matches if either field matches; otherwise both must ("0 0 13 * fri" fires on every
/// 13th and every Friday; "0 0 */2 * fri" only on odd-numbered Fridays).
///
/// Fire times are evaluated on the wall clock of a zone. Guarantee: a wall-clock time that
/// matches but does not exist (spring forward) fires once, at the first instant after the
/// gap; one that occurs twice (fall back) fires once, at its first occurrence. So each
/// matching wall-clock time yields at most one fire time, and fire times strictly increase.
///
/// Immutable after parse(); safe to share between threads.
class CronSchedule {
public:
    /// Every satisfiable expression fires within 40 years of any instant (29 February on
    /// a given weekday is the rarest day); next_after() searches this far and no further.
    static constexpr int kSearchHorizonYears = 50;

    /// Throws CronSyntaxError (an InputError with the 1-based column) for a bad expression.
    static CronSchedule parse(std::string_view expression);

    /// The expression as written.
    const std::string& expression() const noexcept { return expression_; }

    /// The normalised five fields with numbers only ("@daily" → "0 0 * * *",
    /// "*/15 9-17 * * MON-FRI" → "*/15 9-17 * * 1-5"). parse(describe()) equals *this.
    std::string describe() const;

    /// False if no day can ever match ("0 0 30 2 *", "0 0 31 4,6 *"): such a schedule never
    /// fires, which a validator may want to refuse.
    bool can_fire() const noexcept { return can_fire_; }

    /// Whether the wall-clock minute of `local` matches (its seconds are ignored).
    bool matches(const LocalDateTime& local) const noexcept;

    /// The first fire time strictly after `t` on the wall clock of `zone`; nullopt if there
    /// is none within kSearchHorizonYears (can_fire() is false) or before
    /// TimeZone::kMaxInstant, or if `t` is outside TimeZone's range.
    std::optional<std::chrono::sys_seconds> next_after(std::chrono::sys_seconds t,
                                                       const TimeZone& zone) const;

    /// The fire times f with after < f <= until, oldest first, at most `cap` of them.
    std::vector<std::chrono::sys_seconds> fire_times_between(std::chrono::sys_seconds after,
                                                             std::chrono::sys_seconds until,
                                                             const TimeZone& zone,
                                                             std::size_t cap) const;

    /// Same fields and day rule (the expressions' text may differ: "@daily" == "0 0 * * *").
    friend bool operator==(const CronSchedule& a, const CronSchedule& b) noexcept;

private:
    CronSchedule() = default;
    bool day_matches(int64_t year, int month, int day) const noexcept;

    std::string expression_;
    uint64_t minutes_ = 0;        // bit m for minute m (0-59)
    uint32_t hours_ = 0;          // bit h for hour h (0-23)
    uint32_t days_of_month_ = 0;  // bit d for day d (1-31)
    uint32_t months_ = 0;         // bit m for month m (1-12)
    uint32_t days_of_week_ = 0;   // bit d for weekday d (0 = Sunday … 6; 7 is folded into 0)
    bool dom_star_ = false;       // the day-of-month field starts with '*'
    bool dow_star_ = false;       // the day-of-week field starts with '*'
    bool can_fire_ = false;
};

}  // namespace artistsaid::schedule
