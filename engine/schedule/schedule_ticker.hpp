// ScheduleTicker: one tick of the scheduler — for each scheduled workflow, the slots due now
// (catch-up policy applied) are claimed in PostgreSQL and their runs started.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <pqxx/connection>

#include "engine/schedule/catch_up.hpp"

namespace artistsaid::schedule {

namespace detail {
/// One row of a workflow's recent history in schedule_slots.
struct SlotRecord {
    long long id = 0;
    std::chrono::sys_seconds slot;
    bool has_run = false;
    bool skipped = false;  // a row that records skipped slots, not a fired one
    long long age = 0;     // seconds since the row was inserted (database clock)
};
}  // namespace detail

/// One `on: schedule:` entry as written (the ticker parses it, so a schedule that cannot be
/// parsed or whose zone is missing is reported without stopping the others).
struct ScheduleSpec {
    std::string cron;
    std::string timezone = "UTC";
    CatchUpPolicy catch_up = CatchUpPolicy::kNone;
};

struct ScheduledWorkflow {
    std::string name;
    std::vector<ScheduleSpec> schedules;
};

/// What the run starter gets for one slot. The starter must pass `dedupe_key` on to the
/// run-time, which returns the existing run for a key it has seen: that is what makes a
/// re-fire after a crash safe.
struct SlotStart {
    std::string workflow;
    std::chrono::sys_seconds slot;
    std::string dedupe_key;
};

/// Starts (or finds, by dedupe key) the run of one slot; returns its run id. Throws on
/// failure; UnavailableError ends the tick, any other error is reported for that slot.
using RunStarter = std::function<std::string(const SlotStart&)>;

struct FiredSlot {
    std::string workflow;
    std::size_t schedule = 0;  // index in the workflow's `on: schedule:` list
    std::string timezone;
    std::chrono::sys_seconds slot;
    std::string run_id;
    bool refired = false;  // a claimed slot whose run was never recorded (a crashed tick)
};

struct SkippedSlots {
    std::string workflow;
    std::size_t schedule = 0;
    CatchUpPolicy catch_up = CatchUpPolicy::kNone;
    std::size_t count = 0;
    bool count_is_lower_bound = false;
};

/// A schedule that could not be planned, or a slot whose run could not start. The slot
/// stays claimed without a run, so later ticks try it again (see refire_after).
struct TickError {
    std::string workflow;
    std::optional<std::size_t> schedule;
    std::optional<std::chrono::sys_seconds> slot;
    std::string message;
    /// True when the workflow or its input is at fault (InputError: a required input
    /// without a default, a workflow gone from workflows_dir, a bad cron or time zone):
    /// the tick did its job and reports it. False for a failure of the work itself (a
    /// statement PostgreSQL refused, a bug), which the tick's exit status reports.
    bool bad_input = true;
};

struct TickReport {
    std::chrono::sys_seconds now;
    std::vector<FiredSlot> fired;
    std::vector<SkippedSlots> skipped;
    std::vector<TickError> errors;
};

struct TickerOptions {
    std::string database_url;
    std::chrono::seconds connect_timeout{5};
    /// Recorded as schedule_slots.fired_by ("tick host:1234").
    std::string instance = "tick";
    CatchUpOptions catch_up;
    /// A claimed slot whose run_id is still NULL this long after the claim is fired again
    /// by any tick (the claimer crashed between claiming and recording the run) ...
    std::chrono::seconds refire_after{60};
    /// ... unless it is older than this: a run deleted later also leaves run_id NULL
    /// (ON DELETE SET NULL), and such old slots must not start again.
    std::chrono::seconds refire_window{std::chrono::hours(24)};
};

/// Fires due schedule slots, exactly once each, whoever fires them.
///
/// A slot is a (workflow, UTC instant) row in schedule_slots, unique in PostgreSQL: the tick
/// that inserts it (INSERT … ON CONFLICT DO NOTHING RETURNING) is the only one that starts
/// its run, with the dedupe key "schedule:<workflow>:<slot in UTC>", then records the run id
/// on the row. So any number of concurrent ticks and schedulers, on any hosts, are safe
/// without a leader. A row left without a run id (its tick died in between) is fired again
/// by a later tick after `refire_after`; the dedupe key returns the run if it had started.
///
/// A schedule's last fired slot is the newest row of its workflow that is one of its fire
/// times (so two schedules of one workflow keep their own history; where they coincide the
/// instant fires once). Slots skipped by `catch_up: none` with nothing on time are recorded
/// as a row without a run (fired_by "skipped by …"), so the next tick does not skip — and
/// report — them again.
///
/// Thread-safety: one ScheduleTicker per thread (it owns one PostgreSQL connection).
class ScheduleTicker {
public:
    /// fired_by of a row that records skipped slots instead of a fired one.
    static constexpr std::string_view kSkippedPrefix = "skipped by ";
    /// Rows of a workflow read to find each schedule's last slot.
    static constexpr int kHistoryRows = 500;

    ScheduleTicker(TickerOptions options, RunStarter start);
    ~ScheduleTicker();
    ScheduleTicker(const ScheduleTicker&) = delete;
    ScheduleTicker& operator=(const ScheduleTicker&) = delete;

    /// Fires what is due at `now` for `workflows`. Throws UnavailableError if PostgreSQL (or,
    /// through the starter, Redis) cannot be reached; other problems are in the report.
    TickReport tick(const std::vector<ScheduledWorkflow>& workflows, std::chrono::sys_seconds now);

    /// The newest slot recorded for each schedule of `workflow` (nullopt: never fired, or the
    /// schedule does not parse), in the order of workflow.schedules.
    std::vector<std::optional<std::chrono::sys_seconds>> last_fired(
        const ScheduledWorkflow& workflow);

    /// "schedule:billing-cycle:2026-03-29T01:00:00Z".
    static std::string dedupe_key(std::string_view workflow, std::chrono::sys_seconds slot);

private:
    pqxx::connection& connection();
    /// The workflow's newest kHistoryRows rows, newest first.
    std::vector<detail::SlotRecord> recent_slots(const std::string& workflow);
    /// Inserts the slot row; its id if this call inserted it, nullopt if it existed.
    std::optional<long long> claim(const std::string& workflow, std::chrono::sys_seconds slot,
                                   const std::string& fired_by);
    void record_run(long long slot_id, const std::string& run_id);
    void refire_orphans(const std::vector<ScheduledWorkflow>& workflows, TickReport& report);

    TickerOptions options_;
    RunStarter start_;
    std::unique_ptr<pqxx::connection> connection_;  // opened on first use, reopened if lost
};

}  // namespace artistsaid::schedule
