// `artistsaid tick`, `scheduler` and `schedules list` as cron, systemd and an operator run
// them, against real PostgreSQL and Redis: each slot fires exactly once, whoever fires it.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <set>
#include <thread>

#include "engine/store/migrator.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/cli_runner.hpp"
#include "tests/support/redis_guard.hpp"
#include "tests/support/temp_database.hpp"
#include "tests/support/test_env.hpp"

using namespace artistsaid;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Fixture {
    test::TempDatabase db;
    test::RedisPrefixGuard guard;
    fs::path dir = fs::temp_directory_path() / test::unique_name("aa_sched");
    test::CliOptions opts;

    Fixture() {
        store::Migrator(db.url(), fs::path(test::source_dir()) / "migrations").up();
        fs::create_directories(dir);
        opts.env = {{"ARTISTSAID_DATABASE_URL", db.url()},
                    {"ARTISTSAID_REDIS_URL", test::redis_url()},
                    {"ARTISTSAID_QUEUE_PREFIX", guard.prefix()},
                    {"ARTISTSAID_WORKFLOWS_DIR", dir.string()},
                    {"ARTISTSAID_LOG_FORMAT", "text"}};
    }
    ~Fixture() { fs::remove_all(dir); }

    // A workflow with one log step and the given `on: schedule:` entries (YAML lines).
    void scheduled(const std::string& name, const std::vector<std::string>& schedules) const {
        std::string yaml = "name: " + name + "\nversion: 1\non:\n  schedule:\n";
        for (const auto& s : schedules) yaml += "    - " + s + "\n";
        yaml += "steps:\n  - id: hello\n    uses: log\n    with: { message: hello }\n";
        std::ofstream(dir / (name + ".yaml")) << yaml;
    }

    // The tick's --json report; fails the test unless it exited 0.
    json tick(const std::string& now) const {
        auto r = test::run_cli({"tick", "--json", "--now", now}, opts);
        INFO("stdout: " << r.out << "\nstderr: " << r.err);
        REQUIRE(r.exit_code == 0);
        return json::parse(r.out);
    }

    long long scalar(const std::string& sql) const {
        pqxx::connection c(db.url());
        pqxx::read_transaction tx(c);
        return tx.exec1(sql)[0].as<long long>();
    }
    void exec(const std::string& sql) const {
        pqxx::connection c(db.url());
        pqxx::work tx(c);
        tx.exec0(sql);
        tx.commit();
    }
    // A slot recorded as already handled (the history a tick continues from).
    void history(const std::string& workflow, const std::string& slot_utc) const {
        exec("INSERT INTO schedule_slots (workflow_name, slot_at, fired_by) VALUES ('" +
             workflow + "', '" + slot_utc + "', 'skipped by test')");
    }
    long long runs(const std::string& workflow) const {
        return scalar("SELECT count(*) FROM workflow_runs WHERE trigger_kind = 'schedule' AND "
                      "workflow_name = '" + workflow + "'");
    }
};

std::vector<std::string> fired_utc(const json& report, const std::string& workflow) {
    std::vector<std::string> out;
    for (const auto& f : report["fired"])
        if (f["workflow"] == workflow) out.push_back(f["slot_utc"]);
    return out;
}

std::size_t skipped(const json& report, const std::string& workflow) {
    std::size_t n = 0;
    for (const auto& s : report["skipped"])
        if (s["workflow"] == workflow) n += s["count"].get<std::size_t>();
    return n;
}

// Runs `ticks` concurrent `tick --now` processes; returns their reports.
std::vector<json> concurrent_ticks(const Fixture& f, int ticks, const std::string& now) {
    std::vector<test::CliResult> results(static_cast<std::size_t>(ticks));
    std::vector<std::thread> threads;
    for (int i = 0; i < ticks; ++i)
        threads.emplace_back([&, i] {
            results[static_cast<std::size_t>(i)] =
                test::run_cli({"tick", "--json", "--now", now}, f.opts);
        });
    for (auto& t : threads) t.join();
    std::vector<json> reports;
    for (const auto& r : results) {
        INFO("stdout: " << r.out << "\nstderr: " << r.err);
        REQUIRE(r.exit_code == 0);
        reports.push_back(json::parse(r.out));
    }
    return reports;
}

}  // namespace

TEST_CASE("Schedule.Tick.ConcurrentTicksFireEachSlotExactlyOnce") {
    for (int ticks : {1, 4, 8}) {
        CAPTURE(ticks);
        Fixture f;
        // 50 hourly slots due after a 50-hour gap, and a workflow whose two schedules
        // coincide every other hour (one slot per instant: 50 more).
        f.scheduled("hourly", {"{ cron: '0 * * * *', catch_up: all }"});
        f.scheduled("twice", {"{ cron: '0 * * * *', catch_up: all }",
                              "{ cron: '0 */2 * * *', catch_up: all }"});
        f.history("hourly", "2026-05-01T00:00:00Z");
        f.history("twice", "2026-05-01T00:00:00Z");
        auto reports = concurrent_ticks(f, ticks, "2026-05-03T02:00:20Z");
        std::multiset<std::string> slots;
        std::set<std::string> run_ids;
        for (const auto& r : reports) {
            CHECK(r["errors"].empty());
            for (const auto& fired : r["fired"]) {
                slots.insert(fired["workflow"].get<std::string>() + " " +
                             fired["slot_utc"].get<std::string>());
                run_ids.insert(fired["run"].get<std::string>());
            }
        }
        CHECK(slots.size() == 100);
        CHECK(std::set<std::string>(slots.begin(), slots.end()).size() == 100);
        CHECK(run_ids.size() == 100);
        CHECK(f.runs("hourly") == 50);
        CHECK(f.runs("twice") == 50);
        CHECK(f.scalar("SELECT count(*) FROM schedule_slots WHERE run_id IS NOT NULL") == 100);
        CHECK(f.scalar("SELECT count(*) FROM schedule_slots WHERE run_id IS NULL") == 2);
        CHECK(f.scalar("SELECT count(DISTINCT run_id) FROM schedule_slots") == 100);
        CHECK(f.scalar("SELECT count(*) FROM workflow_runs r JOIN schedule_slots s ON "
                       "s.run_id = r.id WHERE r.dedupe_key = 'schedule:' || s.workflow_name || "
                       "':' || to_char(s.slot_at AT TIME ZONE 'UTC', "
                       "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')") == 100);

        // Again, and again concurrently: nothing is due any more.
        for (const auto& r : concurrent_ticks(f, ticks, "2026-05-03T02:00:40Z")) {
            CHECK(r["fired"].empty());
            CHECK(r["skipped"].empty());
        }
        CHECK(f.scalar("SELECT count(*) FROM workflow_runs") == 100);
    }
}

TEST_CASE("Schedule.Tick.CatchUpPoliciesOverAThreeHourGap") {
    Fixture f;
    f.scheduled("none", {"{ cron: '0 * * * *', catch_up: none }"});
    f.scheduled("latest", {"{ cron: '0 * * * *', catch_up: latest }"});
    f.scheduled("all", {"{ cron: '0 * * * *', catch_up: all }"});
    f.scheduled("fresh", {"{ cron: '0 * * * *', catch_up: all }"});
    for (auto name : {"none", "latest", "all"}) f.history(name, "2026-05-04T09:00:00Z");

    SUBCASE("the tick at the top of the hour") {
        auto r = f.tick("2026-05-04T12:00:30Z");
        CHECK(fired_utc(r, "none") == std::vector<std::string>{"2026-05-04T12:00:00Z"});
        CHECK(skipped(r, "none") == 2);
        CHECK(fired_utc(r, "latest") == std::vector<std::string>{"2026-05-04T12:00:00Z"});
        CHECK(skipped(r, "latest") == 2);
        CHECK(fired_utc(r, "all") == std::vector<std::string>{"2026-05-04T10:00:00Z",
                                                              "2026-05-04T11:00:00Z",
                                                              "2026-05-04T12:00:00Z"});
        CHECK(skipped(r, "all") == 0);
        // No history: only the on-time slot.
        CHECK(fired_utc(r, "fresh") == std::vector<std::string>{"2026-05-04T12:00:00Z"});
        CHECK(f.runs("all") == 3);
        auto again = f.tick("2026-05-04T12:01:00Z");
        CHECK(again["fired"].empty());
        CHECK(again["skipped"].empty());
    }
    SUBCASE("a tick in the middle of the hour") {
        auto r = f.tick("2026-05-04T12:30:00Z");
        CHECK(fired_utc(r, "none").empty());
        CHECK(skipped(r, "none") == 3);
        CHECK(fired_utc(r, "latest") == std::vector<std::string>{"2026-05-04T12:00:00Z"});
        CHECK(fired_utc(r, "all").size() == 3);
        CHECK(fired_utc(r, "fresh").empty());
        // The skip is recorded: the next tick neither fires nor reports it again.
        auto again = f.tick("2026-05-04T12:31:00Z");
        CHECK(again["fired"].empty());
        CHECK(again["skipped"].empty());
        CHECK(f.runs("none") == 0);
        // And the next slot is on time again.
        CHECK(fired_utc(f.tick("2026-05-04T13:00:05Z"), "none") ==
              std::vector<std::string>{"2026-05-04T13:00:00Z"});
    }
}

TEST_CASE("Schedule.Tick.DaylightSavingTimeInBerlin") {
    Fixture f;
    f.scheduled("spring", {"{ cron: '30 2 * * *', timezone: Europe/Berlin }"});
    f.scheduled("fall", {"{ cron: '30 2 * * *', timezone: Europe/Berlin }"});
    f.history("spring", "2026-03-28T01:30:00Z");  // 02:30 CET the day before
    f.history("fall", "2026-10-24T00:30:00Z");    // 02:30 CEST the day before

    // 2026-03-29: 02:30 does not exist; it fires once, at 03:00 CEST (01:00 UTC).
    CHECK(f.tick("2026-03-29T00:59:00Z")["fired"].empty());
    auto spring = f.tick("2026-03-29T01:00:10Z");
    REQUIRE(fired_utc(spring, "spring") == std::vector<std::string>{"2026-03-29T01:00:00Z"});
    for (const auto& fired : spring["fired"])
        if (fired["workflow"] == "spring") CHECK(fired["slot"] == "2026-03-29T03:00:00+02:00");
    for (auto now : {"2026-03-29T01:30:10Z", "2026-03-29T02:00:00Z"})
        CHECK(f.tick(now)["fired"].empty());

    CHECK(f.runs("spring") == 1);
    fs::remove(f.dir / "spring.yaml");  // its 2026-10-25 slot would be on time below

    // 2026-10-25: 02:30 happens twice; it fires once, the first time (00:30 UTC, CEST).
    auto fall = f.tick("2026-10-25T00:30:10Z");
    REQUIRE(fired_utc(fall, "fall") == std::vector<std::string>{"2026-10-25T00:30:00Z"});
    for (const auto& fired : fall["fired"])
        if (fired["workflow"] == "fall") CHECK(fired["slot"] == "2026-10-25T02:30:00+02:00");
    CHECK(f.tick("2026-10-25T01:30:10Z")["fired"].empty());  // 02:30 CET, the second time
    CHECK(f.runs("fall") == 1);
}

TEST_CASE("Schedule.Tick.RefiresASlotWhoseTickDiedBeforeStartingItsRun") {
    Fixture f;
    f.scheduled("hourly", {"{ cron: '0 * * * *' }"});
    // A tick claimed 10:00 two minutes ago and died before it started the run.
    f.exec("INSERT INTO schedule_slots (workflow_name, slot_at, fired_by, fired_at) VALUES "
           "('hourly', '2026-05-04T10:00:00Z', 'tick crashed:1', now() - interval '2 minutes')");
    // One claimed a second ago is still its claimer's to start.
    f.exec("INSERT INTO schedule_slots (workflow_name, slot_at, fired_by) VALUES "
           "('hourly', '2026-05-04T09:00:00Z', 'tick busy:2')");
    auto r = f.tick("2026-05-04T10:02:00Z");
    REQUIRE(r["fired"].size() == 1);
    CHECK(r["fired"][0]["slot_utc"] == "2026-05-04T10:00:00Z");
    CHECK(r["fired"][0]["refired"] == true);
    CHECK(f.runs("hourly") == 1);
    CHECK(f.scalar("SELECT count(*) FROM schedule_slots WHERE run_id IS NULL") == 1);
    CHECK(f.tick("2026-05-04T10:03:00Z")["fired"].empty());
}

TEST_CASE("Schedule.Tick.ExitCodes") {
    Fixture f;
    f.scheduled("hourly", {"{ cron: '0 * * * *' }"});
    auto bad_now = test::run_cli({"tick", "--now", "yesterday"}, f.opts);
    CHECK(bad_now.exit_code == 2);
    CHECK(bad_now.err.find("RFC 3339") != std::string::npos);

    auto opts = f.opts;
    opts.env["ARTISTSAID_DATABASE_URL"] = "postgresql://artistsaid@127.0.0.1:1/nowhere";
    opts.env["ARTISTSAID_CONNECT_TIMEOUT"] = "2s";
    auto down = test::run_cli({"tick"}, opts);
    INFO(down.err);
    CHECK(down.exit_code == 3);

    opts = f.opts;
    opts.env["ARTISTSAID_REDIS_URL"] = "redis://127.0.0.1:1";
    CHECK(test::run_cli({"tick"}, opts).exit_code == 3);
    CHECK(f.scalar("SELECT count(*) FROM schedule_slots") == 0);
}

TEST_CASE("Schedule.Tick.ARunThatCannotStartForBadInputIsReportedAndTheTickExitsZero") {
    // What cron expects: the tick did its job (every other slot fired) and exits 0; the
    // slot whose workflow cannot start is reported on stderr (cron mails it) and in the
    // JSON, and later ticks try it again.
    Fixture f;
    f.scheduled("hourly", {"{ cron: '0 * * * *' }"});
    std::ofstream(f.dir / "needs-input.yaml")
        << "name: needs-input\nversion: 1\non:\n  schedule:\n    - cron: '0 * * * *'\n"
           "inputs:\n  customer: { type: string, required: true }\n"
           "steps:\n  - id: hello\n    uses: log\n    with: { message: hello }\n";
    auto r = test::run_cli({"tick", "--json", "--now", "2026-05-04T10:00:10Z"}, f.opts);
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.exit_code == 0);
    auto report = json::parse(r.out);
    CHECK(fired_utc(report, "hourly") == std::vector<std::string>{"2026-05-04T10:00:00Z"});
    CHECK(fired_utc(report, "needs-input").empty());
    REQUIRE(report["errors"].size() == 1);
    CHECK(report["errors"][0]["workflow"] == "needs-input");
    CHECK(report["errors"][0]["slot"] == "2026-05-04T10:00:00Z");
    CHECK(report["errors"][0]["kind"] == "invalid_input");
    CHECK(report["errors"][0]["error"].get<std::string>().find("customer") != std::string::npos);
    CHECK(r.err.find("error: could not start needs-input slot 2026-05-04T10:00:00Z") !=
          std::string::npos);
    CHECK(f.runs("needs-input") == 0);
    CHECK(f.runs("hourly") == 1);
    // The text form says the same on stderr and prints only what fired on stdout.
    auto text = test::run_cli({"tick", "--now", "2026-05-04T11:00:10Z"}, f.opts);
    CHECK(text.exit_code == 0);
    CHECK(text.out.find("fired hourly slot") != std::string::npos);
    CHECK(text.out.find("needs-input") == std::string::npos);
    CHECK(text.err.find("could not start needs-input slot 2026-05-04T11:00:00Z") !=
          std::string::npos);
    CHECK(f.runs("needs-input") == 0);
}

TEST_CASE("Schedule.List.NextFireTimesAndLastSlotAsJson") {
    Fixture f;
    f.scheduled("nightly", {"{ cron: '30 2 * * *', timezone: Europe/Berlin, catch_up: latest }",
                            "{ cron: '@hourly' }"});
    f.tick("2026-03-28T23:00:05Z");
    auto r = test::run_cli(
        {"schedules", "list", "--json", "--count", "3", "--now", "2026-03-28T23:00:05Z"}, f.opts);
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    auto list = json::parse(r.out);
    REQUIRE(list.size() == 2);
    CHECK(list[0]["workflow"] == "nightly");
    CHECK(list[0]["cron"] == "30 2 * * *");
    CHECK(list[0]["timezone"] == "Europe/Berlin");
    CHECK(list[0]["catch_up"] == "latest");
    CHECK(list[0]["last_fired"].is_null());
    CHECK(list[0]["next"] == json::parse(R"([
        {"local": "2026-03-29T03:00:00+02:00", "utc": "2026-03-29T01:00:00Z"},
        {"local": "2026-03-30T02:30:00+02:00", "utc": "2026-03-30T00:30:00Z"},
        {"local": "2026-03-31T02:30:00+02:00", "utc": "2026-03-31T00:30:00Z"}])"));
    CHECK(list[1]["timezone"] == "UTC");
    CHECK(list[1]["catch_up"] == "none");
    CHECK(list[1]["last_fired"] ==
          json({{"local", "2026-03-28T23:00:00+00:00"}, {"utc", "2026-03-28T23:00:00Z"}}));
    CHECK(list[1]["next"][0]["utc"] == "2026-03-29T00:00:00Z");

    auto text = test::run_cli({"schedules", "list", "--now", "2026-03-28T23:00:05Z"}, f.opts);
    CHECK(text.exit_code == 0);
    CHECK(text.out.find("2026-03-29T03:00:00+02:00  (2026-03-29T01:00:00Z)") !=
          std::string::npos);
}

TEST_CASE("Schedule.Scheduler.FiresAndStopsCleanlyOnSigterm") {
    Fixture f;
    f.scheduled("minutely", {"{ cron: '* * * * *' }"});
    std::string path = "/tmp/" + test::unique_name("aa_sched_notify") + ".sock";
    int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    timeval tv{0, 100000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    auto env = f.opts.env;
    env["NOTIFY_SOCKET"] = path;
    env["WATCHDOG_USEC"] = "1000000";
    test::ChildProcess scheduler(test::cli_binary(), {"scheduler", "--interval", "2s"}, env);
    auto receive_until = [&](const std::string& wanted, std::chrono::milliseconds timeout) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            char buf[512];
            ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n > 0 && std::string(buf, static_cast<size_t>(n)).find(wanted) !=
                             std::string::npos)
                return true;
        }
        return false;
    };
    CHECK(receive_until("READY=1", 10s));
    // The current minute's slot is on time: the first tick fires it.
    CHECK(test::eventually([&] { return f.runs("minutely") >= 1; }, 10s));
    CHECK(receive_until("WATCHDOG=1", 3s));
    scheduler.signal(SIGTERM);
    CHECK(receive_until("STOPPING=1", 5s));
    CHECK(scheduler.wait(5s) == std::optional<int>(0));
    INFO(scheduler.output());
    CHECK(f.scalar("SELECT count(*) FROM schedule_slots WHERE run_id IS NULL") == 0);
    ::close(fd);
    ::unlink(path.c_str());
}
