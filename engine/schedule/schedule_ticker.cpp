#include "engine/schedule/schedule_ticker.hpp"

#include <pqxx/pqxx>

#include "engine/core/error.hpp"
#include "engine/schedule/cron_schedule.hpp"
#include "engine/schedule/rfc3339.hpp"
#include "engine/schedule/time_zone.hpp"
#include "engine/store/database.hpp"

namespace artistsaid::schedule {
namespace {

using std::chrono::seconds;
using std::chrono::sys_seconds;

using SlotRow = detail::SlotRecord;

// The newest row that is a fire time of `cron` in `zone`; rows are newest first.
std::optional<sys_seconds> last_of(const CronSchedule& cron, const TimeZone& zone,
                                   const std::vector<SlotRow>& rows) {
    for (const auto& row : rows) {
        auto next = cron.next_after(row.slot - seconds(1), zone);
        if (next && *next == row.slot) return row.slot;
    }
    return std::nullopt;
}

// The first schedule of `workflow` that has `slot` as a fire time.
std::optional<std::size_t> schedule_of(const ScheduledWorkflow& workflow, sys_seconds slot) {
    for (std::size_t i = 0; i < workflow.schedules.size(); ++i) {
        try {
            auto cron = CronSchedule::parse(workflow.schedules[i].cron);
            auto next = cron.next_after(slot - seconds(1),
                                        TimeZone::load(workflow.schedules[i].timezone));
            if (next && *next == slot) return i;
        } catch (const InputError&) {
        }
    }
    return std::nullopt;
}

// Whether a run starter's failure is the workflow's or its input's fault.
bool is_bad_input(const std::exception& e) {
    return dynamic_cast<const InputError*>(&e) != nullptr;
}

// Runs `f` and turns libpqxx's exceptions into ours, naming what we were doing.
template <typename F>
auto guarded(std::string_view what, F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (...) {
        store::throw_from_pqxx(what);
    }
}

}  // namespace

ScheduleTicker::ScheduleTicker(TickerOptions options, RunStarter start)
    : options_(std::move(options)), start_(std::move(start)) {}

ScheduleTicker::~ScheduleTicker() = default;

std::string ScheduleTicker::dedupe_key(std::string_view workflow, sys_seconds slot) {
    return "schedule:" + std::string(workflow) + ":" + format_utc(slot);
}

pqxx::connection& ScheduleTicker::connection() {
    if (!connection_ || !connection_->is_open())
        connection_ = store::connect(options_.database_url, options_.connect_timeout,
                                     std::chrono::seconds(30));
    return *connection_;
}

std::vector<SlotRow> ScheduleTicker::recent_slots(const std::string& workflow) {
    return guarded("reading the schedule slots of " + workflow, [&] {
        pqxx::read_transaction tx(connection());
        auto result = tx.exec_params(
            "SELECT id, extract(epoch FROM slot_at)::bigint, run_id IS NOT NULL, "
            "coalesce(fired_by, '') LIKE $3 || '%', "
            "extract(epoch FROM now() - fired_at)::bigint "
            "FROM schedule_slots WHERE workflow_name = $1 ORDER BY slot_at DESC LIMIT $2",
            workflow, kHistoryRows, std::string(kSkippedPrefix));
        std::vector<SlotRow> rows;
        rows.reserve(result.size());
        for (const auto& r : result)
            rows.push_back({r[0].as<long long>(), sys_seconds(seconds(r[1].as<long long>())),
                            r[2].as<bool>(), r[3].as<bool>(), r[4].as<long long>()});
        return rows;
    });
}

std::optional<long long> ScheduleTicker::claim(const std::string& workflow, sys_seconds slot,
                                               const std::string& fired_by) {
    return guarded("claiming slot " + format_utc(slot) + " of " + workflow, [&] {
        pqxx::nontransaction tx(connection());
        auto result = tx.exec_params(
            "INSERT INTO schedule_slots (workflow_name, slot_at, fired_by) "
            "VALUES ($1, to_timestamp($2), $3) "
            "ON CONFLICT (workflow_name, slot_at) DO NOTHING RETURNING id",
            workflow, static_cast<long long>(slot.time_since_epoch().count()), fired_by);
        return result.empty() ? std::nullopt : std::optional(result[0][0].as<long long>());
    });
}

void ScheduleTicker::record_run(long long slot_id, const std::string& run_id) {
    guarded("recording the run of a schedule slot", [&] {
        pqxx::nontransaction tx(connection());
        tx.exec_params("UPDATE schedule_slots SET run_id = $2::uuid WHERE id = $1", slot_id,
                       run_id);
    });
}

TickReport ScheduleTicker::tick(const std::vector<ScheduledWorkflow>& workflows, sys_seconds now) {
    TickReport report;
    report.now = now;
    try {
        connection();  // a tick with nothing due still says whether PostgreSQL is there
        refire_orphans(workflows, report);
        for (const auto& workflow : workflows) {
            if (workflow.schedules.empty()) continue;
            auto history = recent_slots(workflow.name);
            struct Plan {
                std::size_t index;
                DueSlots due;
                std::optional<sys_seconds> skip_marker;
                bool claimed_any = false;
            };
            std::vector<Plan> plans;
            for (std::size_t i = 0; i < workflow.schedules.size(); ++i) {
                const auto& spec = workflow.schedules[i];
                try {
                    auto cron = CronSchedule::parse(spec.cron);
                    auto zone = TimeZone::load(spec.timezone);
                    auto last = last_of(cron, zone, history);
                    Plan plan{i, due_slots(cron, zone, last, now, spec.catch_up,
                                           options_.catch_up),
                              std::nullopt};
                    // Nothing fires but slots were missed (`none`, nothing on time): record
                    // the newest missed slot, so the next tick neither skips them again nor
                    // reports them again.
                    if (plan.due.fire.empty() && plan.due.skipped > 0)
                        plan.skip_marker =
                            due_slots(cron, zone, last, now, CatchUpPolicy::kLatest,
                                      options_.catch_up)
                                .newest();
                    plans.push_back(std::move(plan));
                } catch (const InputError& e) {
                    report.errors.push_back({workflow.name, i, std::nullopt, e.what(), true});
                }
            }
            // Fire first, then record skips: where two schedules share an instant, one that
            // fires it wins over one that would skip it.
            for (auto& plan : plans) {
                for (auto slot : plan.due.fire) {
                    auto id = claim(workflow.name, slot, options_.instance);
                    if (!id) continue;  // another tick or scheduler has it
                    plan.claimed_any = true;
                    SlotStart start{workflow.name, slot, dedupe_key(workflow.name, slot)};
                    std::string run_id;
                    try {
                        run_id = start_(start);
                    } catch (const UnavailableError&) {
                        throw;
                    } catch (const std::exception& e) {
                        // The row stays without a run; a later tick fires it again.
                        report.errors.push_back({workflow.name, plan.index, slot, e.what(),
                                                 is_bad_input(e)});
                        continue;
                    }
                    record_run(*id, run_id);
                    report.fired.push_back({workflow.name, plan.index,
                                            workflow.schedules[plan.index].timezone, slot,
                                            run_id, false});
                }
            }
            for (auto& plan : plans) {
                if (plan.skip_marker &&
                    claim(workflow.name, *plan.skip_marker,
                          std::string(kSkippedPrefix) + options_.instance))
                    plan.claimed_any = true;
                // Reported by the tick that claimed something for it, so once.
                if (plan.due.skipped > 0 && plan.claimed_any)
                    report.skipped.push_back({workflow.name, plan.index,
                                              workflow.schedules[plan.index].catch_up,
                                              plan.due.skipped, plan.due.skipped_is_lower_bound});
            }
        }
    } catch (const UnavailableError&) {
        connection_.reset();  // reconnect on the next tick
        throw;
    }
    return report;
}

void ScheduleTicker::refire_orphans(const std::vector<ScheduledWorkflow>& workflows,
                                    TickReport& report) {
    for (const auto& workflow : workflows) {
        if (workflow.schedules.empty()) continue;
        for (const auto& row : recent_slots(workflow.name)) {
            if (row.has_run || row.skipped || row.age < options_.refire_after.count() ||
                row.age > options_.refire_window.count())
                continue;
            // Lock the row so concurrent ticks do not all start it (the dedupe key would
            // make that harmless, but it is wasted work).
            auto tx = guarded("locking an unfinished schedule slot",
                              [&]() -> std::unique_ptr<pqxx::work> {
                auto t = std::make_unique<pqxx::work>(connection());
                auto r = t->exec_params(
                    "SELECT id FROM schedule_slots WHERE id = $1 AND run_id IS NULL "
                    "FOR UPDATE SKIP LOCKED",
                    row.id);
                return r.empty() ? nullptr : std::move(t);
            });
            if (!tx) continue;
            SlotStart start{workflow.name, row.slot, dedupe_key(workflow.name, row.slot)};
            std::string run_id;
            try {
                run_id = start_(start);
            } catch (const UnavailableError&) {
                throw;
            } catch (const std::exception& e) {
                report.errors.push_back(
                    {workflow.name, std::nullopt, row.slot, e.what(), is_bad_input(e)});
                continue;
            }
            guarded("recording the run of a schedule slot", [&] {
                tx->exec_params("UPDATE schedule_slots SET run_id = $2::uuid WHERE id = $1",
                                row.id, run_id);
                tx->commit();
            });
            auto index = schedule_of(workflow, row.slot);
            report.fired.push_back({workflow.name, index.value_or(0),
                                    index ? workflow.schedules[*index].timezone : "UTC",
                                    row.slot, run_id, true});
        }
    }
}

std::vector<std::optional<sys_seconds>> ScheduleTicker::last_fired(
    const ScheduledWorkflow& workflow) {
    std::vector<std::optional<sys_seconds>> out;
    auto history = recent_slots(workflow.name);
    for (const auto& spec : workflow.schedules) {
        try {
            out.push_back(last_of(CronSchedule::parse(spec.cron), TimeZone::load(spec.timezone),
                                  history));
        } catch (const InputError&) {
            out.push_back(std::nullopt);
        }
    }
    return out;
}

}  // namespace artistsaid::schedule
