// `artistsaid tick`, `artistsaid scheduler` and `artistsaid schedules list`: firing the
// `on: schedule:` triggers of the workflows in workflows_dir (docs/schedules.md).
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/commands/registry.hpp"
#include "cli/connections.hpp"
#include "cli/runtime_access.hpp"
#include "cli/step_plugins.hpp"
#include "cli/stop_signals.hpp"
#include "engine/core/duration.hpp"
#include "engine/core/error.hpp"
#include "engine/schedule/cron_schedule.hpp"
#include "engine/schedule/rfc3339.hpp"
#include "engine/schedule/schedule_ticker.hpp"
#include "engine/schedule/time_zone.hpp"
#include "engine/worker/systemd_notifier.hpp"
#include "engine/workflow/validator.hpp"
#include "engine/workflow/workflow_directory.hpp"

namespace artistsaid::cli {
namespace {

using std::chrono::sys_seconds;

schedule::CatchUpPolicy policy_of(workflow::CatchUp c) {
    switch (c) {
        case workflow::CatchUp::kLatest:
            return schedule::CatchUpPolicy::kLatest;
        case workflow::CatchUp::kAll:
            return schedule::CatchUpPolicy::kAll;
        case workflow::CatchUp::kNone:
            break;
    }
    return schedule::CatchUpPolicy::kNone;
}

sys_seconds now_of(const Context& ctx) {
    if (ctx.options.count("now"))
        return schedule::parse_rfc3339(ctx.options["now"].as<std::string>());
    return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

// The valid workflows of workflows_dir; problems of invalid files go to `warnings`.
workflow::WorkflowDirectory load_directory(const Config& config,
                                           std::vector<std::string>& warnings) {
    static const workflow::StepCatalog catalog = step_registry().catalog();
    workflow::Validator validator(catalog);
    auto dir = workflow::WorkflowDirectory::load(config.get("workflows_dir"), validator);
    for (const auto& d : dir.invalid())
        warnings.push_back(d.file() + " is invalid and its schedules do not fire (" +
                           std::to_string(d.size()) + " problem(s); run 'artistsaid validate " +
                           d.file() + "')");
    return dir;
}

std::vector<schedule::ScheduledWorkflow> scheduled(const workflow::WorkflowDirectory& dir) {
    std::vector<schedule::ScheduledWorkflow> out;
    for (const auto& w : dir.workflows()) {
        if (w.on.schedules.empty()) continue;
        schedule::ScheduledWorkflow s{w.name, {}};
        for (const auto& t : w.on.schedules)
            s.schedules.push_back({t.cron, t.timezone, policy_of(t.catch_up)});
        out.push_back(std::move(s));
    }
    return out;
}

std::string instance_name(const std::string& role) {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    return role + " " + host + ":" + std::to_string(::getpid());
}

schedule::TimeZone zone_or_utc(const std::string& name) {
    try {
        return schedule::TimeZone::load(name);
    } catch (const InputError&) {
        return schedule::TimeZone::utc();
    }
}

nlohmann::json instant_json(sys_seconds t, const schedule::TimeZone& zone) {
    return {{"local", schedule::format_local(t, zone)}, {"utc", schedule::format_utc(t)}};
}

// One tick over the current contents of workflows_dir: the tick command runs it once, the
// scheduler once per wake-up (so edited YAML takes effect without a restart).
class Tick {
public:
    Tick(const Config& config, const std::string& role)
        : config_(config),
          ticker_(
              [&] {
                  schedule::TickerOptions o;
                  o.database_url = config.database_url();
                  if (o.database_url.empty())
                      throw InputError(
                          "no database configured: set ARTISTSAID_DATABASE_URL or "
                          "--database-url");
                  o.connect_timeout = std::chrono::duration_cast<std::chrono::seconds>(
                      config.duration("connect_timeout"));
                  o.instance = instance_name(role);
                  return o;
              }(),
              [this](const schedule::SlotStart& slot) { return start(slot); }) {}

    struct Result {
        schedule::TickReport report;
        std::vector<std::string> warnings;
    };

    Result run(sys_seconds now) {
        Result result;
        auto dir = load_directory(config_, result.warnings);
        definitions_.clear();
        for (const auto& w : dir.workflows()) definitions_.emplace(w.name, w);
        // Redis is needed to start a run; find out now rather than at the first due slot.
        redis_connection(config_).command({"PING"});
        result.report = ticker_.tick(scheduled(dir), now);
        return result;
    }

private:
    std::string start(const schedule::SlotStart& slot) {
        auto found = definitions_.find(slot.workflow);
        if (found == definitions_.end())
            throw InputError("workflow '" + slot.workflow + "' is not in " +
                                 config_.get("workflows_dir") + " any more",
                             ErrorCode::kNotFound);
        if (!engine_) engine_ = make_run_engine(config_);
        runtime::StartRequest request;
        request.trigger_kind = "schedule";
        request.trigger_ref = schedule::format_utc(slot.slot);
        request.dedupe_key = slot.dedupe_key;
        return engine_->start(found->second, request).run_id;
    }

    const Config& config_;
    std::map<std::string, workflow::WorkflowDefinition> definitions_;
    std::unique_ptr<runtime::RunEngine> engine_;  // created at the first start
    schedule::ScheduleTicker ticker_;
};

void print_report(const Context& ctx, const Tick::Result& result) {
    const auto& r = result.report;
    for (const auto& w : result.warnings) ctx.err << "warning: " << w << '\n';
    // On stderr, so cron mails them (and a JSON reader of stdout still gets one object).
    for (const auto& e : r.errors) {
        if (e.slot)
            ctx.err << "error: could not start " << e.workflow << " slot "
                    << schedule::format_utc(*e.slot) << ": " << e.message
                    << " (later ticks try this slot again for 24 h)\n";
        else
            ctx.err << "error: " << e.workflow << " schedule " << e.schedule.value_or(0) + 1
                    << " does not fire: " << e.message << '\n';
    }
    if (ctx.json) {
        nlohmann::json fired = nlohmann::json::array();
        for (const auto& f : r.fired) {
            auto slot = instant_json(f.slot, zone_or_utc(f.timezone));
            fired.push_back({{"workflow", f.workflow}, {"schedule", f.schedule},
                             {"timezone", f.timezone}, {"slot", slot["local"]},
                             {"slot_utc", slot["utc"]}, {"run", f.run_id},
                             {"refired", f.refired}});
        }
        nlohmann::json skipped = nlohmann::json::array();
        for (const auto& s : r.skipped)
            skipped.push_back({{"workflow", s.workflow}, {"schedule", s.schedule},
                               {"catch_up", schedule::to_string(s.catch_up)},
                               {"count", s.count}, {"at_least", s.count_is_lower_bound}});
        nlohmann::json errors = nlohmann::json::array();
        for (const auto& e : r.errors)
            errors.push_back({{"workflow", e.workflow},
                              {"schedule", e.schedule ? nlohmann::json(*e.schedule)
                                                      : nlohmann::json()},
                              {"slot", e.slot ? nlohmann::json(schedule::format_utc(*e.slot))
                                              : nlohmann::json()},
                              {"kind", e.bad_input ? "invalid_input" : "failed"},
                              {"error", e.message}});
        ctx.out << nlohmann::json{{"now", schedule::format_utc(r.now)}, {"fired", fired},
                                  {"skipped", skipped}, {"errors", errors}}
                       .dump()
                << '\n';
        return;
    }
    // Nothing to say when nothing happened: cron mails whatever a job prints.
    for (const auto& f : r.fired)
        ctx.out << "fired " << f.workflow << " slot "
                << schedule::format_local(f.slot, zone_or_utc(f.timezone)) << " ("
                << schedule::format_utc(f.slot) << ") run " << f.run_id
                << (f.refired ? " (its first tick stopped before recording the run)" : "")
                << '\n';
    for (const auto& s : r.skipped)
        ctx.out << "skipped " << (s.count_is_lower_bound ? "at least " : "") << s.count
                << " missed slot(s) of " << s.workflow << " schedule " << s.schedule + 1
                << " (catch_up: " << schedule::to_string(s.catch_up) << ")\n";
}

int tick(Context& ctx) {
    auto now = now_of(ctx);
    Tick tick(ctx.config, "tick");
    auto result = tick.run(now);
    print_report(ctx, result);
    // 0: the tick did its job — every due slot fired, or was reported on stderr because its
    // workflow or input is wrong (cron mails that; retrying sooner would not help). 1 only
    // when starting a run failed for another reason (PostgreSQL refused a statement, a bug).
    // A dependency that is down ends the tick with 3 before this (UnavailableError).
    bool failed = std::any_of(result.report.errors.begin(), result.report.errors.end(),
                              [](const schedule::TickError& e) { return !e.bad_input; });
    return failed ? 1 : 0;
}

int scheduler(Context& ctx) {
    StopSignals signals;  // before any thread exists
    auto interval = ctx.options.count("interval")
                        ? parse_duration(ctx.options["interval"].as<std::string>())
                        : std::chrono::milliseconds(std::chrono::seconds(15));
    if (interval < std::chrono::seconds(1) || interval > std::chrono::minutes(1))
        throw InputError("--interval must be between 1s and 60s");
    worker::SystemdNotifier notifier;
    Tick tick(ctx.config, "scheduler");
    notifier.notify("READY=1\nSTATUS=firing due schedule slots");
    spdlog::info("scheduler started: ticking at each minute and every {} ms", interval.count());
    using Clock = std::chrono::system_clock;
    for (;;) {
        auto now = std::chrono::time_point_cast<std::chrono::seconds>(Clock::now());
        try {
            auto result = tick.run(now);
            for (const auto& w : result.warnings) spdlog::warn("{}", w);
            for (const auto& f : result.report.fired)
                spdlog::info("fired {} slot {} ({}) run {}", f.workflow,
                             schedule::format_local(f.slot, zone_or_utc(f.timezone)),
                             schedule::format_utc(f.slot), f.run_id);
            for (const auto& s : result.report.skipped)
                spdlog::warn("skipped {}{} missed slot(s) of {} schedule {} (catch_up: {})",
                             s.count_is_lower_bound ? "at least " : "", s.count, s.workflow,
                             s.schedule + 1, schedule::to_string(s.catch_up));
            for (const auto& e : result.report.errors)
                spdlog::error("{}{}: {}", e.workflow,
                              e.slot ? " slot " + schedule::format_utc(*e.slot) : "", e.message);
            notifier.notify("WATCHDOG=1\nSTATUS=last tick " + schedule::format_utc(now));
        } catch (const UnavailableError& e) {
            // Keep running: the next tick catches up what this one could not fire.
            spdlog::error("tick failed: {}", e.what());
            notifier.notify(std::string("WATCHDOG=1\nSTATUS=tick failed: ") + e.what());
        } catch (const Error& e) {
            // Bad configuration or a statement PostgreSQL refused: what `tick` would exit 2 or
            // 1 for. Keep running too; the next tick tries again (and systemd's journal has
            // the error).
            spdlog::error("tick failed: {}", e.what());
            notifier.notify(std::string("WATCHDOG=1\nSTATUS=tick failed: ") + e.what());
        }
        // Wake at the next multiple of the interval or the next minute, whichever is first
        // (a moment after it, so the clock has surely passed it), and in time for the
        // watchdog.
        auto wall = Clock::now();
        auto since_epoch = std::chrono::duration_cast<std::chrono::milliseconds>(
            wall.time_since_epoch());
        auto next = std::min((since_epoch / interval + 1) * interval,
                             (since_epoch / std::chrono::minutes(1) + 1) *
                                 std::chrono::milliseconds(std::chrono::minutes(1)));
        auto wake = std::chrono::steady_clock::now() + (next - since_epoch) +
                    std::chrono::milliseconds(100);
        bool stop = false;
        while (!stop && std::chrono::steady_clock::now() < wake) {
            auto sleep = std::chrono::duration_cast<std::chrono::milliseconds>(
                wake - std::chrono::steady_clock::now());
            if (auto wd = notifier.watchdog_interval()) {
                sleep = std::min(sleep, std::chrono::duration_cast<std::chrono::milliseconds>(*wd));
                notifier.notify("WATCHDOG=1");
            }
            stop = signals.wait(sleep);
        }
        if (stop) break;
    }
    notifier.notify("STOPPING=1");
    spdlog::info("scheduler stopping");
    return 0;
}

int schedules_list(Context& ctx) {
    auto now = now_of(ctx);
    int count = ctx.options.count("count") ? ctx.options["count"].as<int>() : 5;
    if (count < 0 || count > 1000) throw InputError("--count must be 0..1000");
    std::vector<std::string> warnings;
    auto dir = load_directory(ctx.config, warnings);
    for (const auto& w : warnings) ctx.err << "warning: " << w << '\n';
    auto workflows = scheduled(dir);
    // The last slots need the database; without one configured the list still shows what
    // will fire.
    std::unique_ptr<schedule::ScheduleTicker> history;
    if (!ctx.config.database_url().empty()) {
        schedule::TickerOptions o;
        o.database_url = ctx.config.database_url();
        o.connect_timeout = std::chrono::duration_cast<std::chrono::seconds>(
            ctx.config.duration("connect_timeout"));
        history = std::make_unique<schedule::ScheduleTicker>(
            o, [](const schedule::SlotStart&) -> std::string {
                throw WorkError("schedules list starts no runs");
            });
    }
    nlohmann::json out = nlohmann::json::array();
    for (const auto& w : workflows) {
        std::vector<std::optional<sys_seconds>> last(w.schedules.size());
        if (history) last = history->last_fired(w);
        for (std::size_t i = 0; i < w.schedules.size(); ++i) {
            const auto& spec = w.schedules[i];
            nlohmann::json item = {{"workflow", w.name},
                                   {"schedule", i},
                                   {"cron", spec.cron},
                                   {"timezone", spec.timezone},
                                   {"catch_up", schedule::to_string(spec.catch_up)},
                                   {"last_fired", nullptr},
                                   {"next", nlohmann::json::array()}};
            try {
                auto cron = schedule::CronSchedule::parse(spec.cron);
                auto zone = schedule::TimeZone::load(spec.timezone);
                if (last[i]) item["last_fired"] = instant_json(*last[i], zone);
                auto t = now;
                for (int n = 0; n < count; ++n) {
                    auto next = cron.next_after(t, zone);
                    if (!next) break;
                    item["next"].push_back(instant_json(*next, zone));
                    t = *next;
                }
            } catch (const InputError& e) {
                item["error"] = e.what();
            }
            out.push_back(std::move(item));
        }
    }
    if (ctx.json) {
        ctx.out << out.dump(2) << '\n';
        return 0;
    }
    if (out.empty()) {
        ctx.out << "no workflow in " << ctx.config.get("workflows_dir") << " has a schedule\n";
        return 0;
    }
    bool first = true;
    for (const auto& item : out) {
        if (!first) ctx.out << '\n';
        first = false;
        ctx.out << item["workflow"].get<std::string>() << "  schedule "
                << item["schedule"].get<std::size_t>() + 1 << ": \""
                << item["cron"].get<std::string>() << "\"  "
                << item["timezone"].get<std::string>()
                << "  catch_up: " << item["catch_up"].get<std::string>() << '\n';
        if (item.contains("error")) {
            ctx.out << "  error      " << item["error"].get<std::string>() << '\n';
            continue;
        }
        auto line = [&](const char* label, const nlohmann::json& t) {
            ctx.out << label << t["local"].get<std::string>() << "  ("
                    << t["utc"].get<std::string>() << ")\n";
        };
        if (item["last_fired"].is_null())
            ctx.out << "  last slot  " << (history ? "none" : "unknown (no database configured)")
                    << '\n';
        else
            line("  last slot  ", item["last_fired"]);
        bool head = true;
        for (const auto& t : item["next"]) {
            line(head ? "  next       " : "             ", t);
            head = false;
        }
        if (item["next"].empty() && count > 0) ctx.out << "  next       never\n";
    }
    return 0;
}

void add_now_option(po::options_description& d, const char* what) {
    d.add_options()("now", po::value<std::string>()->value_name("TIME"), what);
}

}  // namespace

Command tick_command() {
    Command cmd;
    cmd.name = "tick";
    cmd.summary =
        "Fire every due schedule slot once and exit (for cron and systemd timers; run it "
        "every minute).";
    cmd.add_options = [](po::options_description& d) {
        add_now_option(d,
                       "the current time, RFC 3339 (for tests and backfills; default: the "
                       "clock)");
    };
    cmd.run = tick;
    return cmd;
}

Command scheduler_command() {
    Command cmd;
    cmd.name = "scheduler";
    cmd.summary =
        "Fire due schedule slots at each minute until SIGTERM/SIGINT (systemd Type=notify "
        "with watchdog); safe next to ticks and other schedulers.";
    cmd.add_options = [](po::options_description& d) {
        d.add_options()("interval", po::value<std::string>()->value_name("DURATION"),
                        "also tick this often between minutes, 1s-60s (default 15s)");
    };
    cmd.run = scheduler;
    return cmd;
}

Command schedules_commands() {
    Command group;
    group.name = "schedules";
    group.summary = "The schedules of the workflows in workflows_dir.";
    Command list;
    list.name = "list";
    list.summary =
        "Each schedule with its next fire times (in its time zone and UTC) and last slot.";
    list.add_options = [](po::options_description& d) {
        d.add_options()("count", po::value<int>()->value_name("N"),
                        "next fire times to show (default 5)");
        add_now_option(d, "list fire times after this RFC 3339 time (default: now)");
    };
    list.run = schedules_list;
    group.children = {list};
    return group;
}

}  // namespace artistsaid::cli
