// The run-time's integration-test fixture: a throw-away database with the migrations
// applied, a Redis key prefix of the test's own, a RunEngine in the test process, and real
// worker processes (runtime_worker_main.cpp) started on demand.
#pragma once

#include <doctest/doctest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <sstream>
#include <string>
#include <vector>

#include "engine/runtime/builtin_steps.hpp"
#include "engine/runtime/run_engine.hpp"
#include "engine/store/migrator.hpp"
#include "engine/workflow/validator.hpp"
#include "tests/integration/runtime/test_steps.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/cli_runner.hpp"
#include "tests/support/redis_guard.hpp"
#include "tests/support/temp_database.hpp"
#include "tests/support/test_env.hpp"

namespace artistsaid::test {

inline std::string runtime_worker_binary() {
    const char* path = std::getenv("ARTISTSAID_TEST_RUNTIME_WORKER");
    REQUIRE_MESSAGE(path != nullptr, "ARTISTSAID_TEST_RUNTIME_WORKER is not set (run via CTest)");
    return path;
}

/// A field of /proc/PID/status in KiB (VmHWM: peak resident set), or -1.
inline long proc_status_kib(pid_t pid, const std::string& field) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(field + ":", 0) == 0) {
            std::istringstream fields(line.substr(field.size() + 1));
            long kib = -1;
            fields >> kib;
            return kib;
        }
    }
    return -1;
}

struct RuntimeFixture {
    TempDatabase db;
    RedisPrefixGuard guard;
    runtime::StepRegistry steps;
    workflow::StepCatalog catalog;
    std::unique_ptr<runtime::RunEngine> engine;
    std::vector<std::unique_ptr<ChildProcess>> workers;
    std::filesystem::path workflows_dir;

    RuntimeFixture() {
        store::Migrator(db.url(), std::filesystem::path(source_dir()) / "migrations").up();
        create_test_step_tables(db.url());
        runtime::register_builtin_steps(steps);
        register_test_steps(steps, db.url());
        catalog = steps.catalog();
        workflows_dir = std::filesystem::temp_directory_path() / unique_name("workflows");
        std::filesystem::create_directories(workflows_dir);
        runtime::RuntimeOptions o;
        o.database_url = db.url();
        o.redis_url = redis_url();
        o.queue_prefix = guard.prefix();
        engine = std::make_unique<runtime::RunEngine>(o, steps);
        engine->set_workflow_source(runtime::workflows_in_directory(workflows_dir.string(), steps));
    }
    ~RuntimeFixture() {
        workers.clear();  // SIGKILLs the workers before the database goes away
        std::error_code ec;
        std::filesystem::remove_all(workflows_dir, ec);
    }

    workflow::WorkflowDefinition workflow(const std::string& yaml) const {
        workflow::Validator validator(catalog);
        auto result = validator.validate(yaml, "test.yaml");
        INFO(result.diagnostics.render());
        REQUIRE(result.ok());
        return *result.definition;
    }

    /// Writes a workflow into the directory workers find child workflows in.
    void add_workflow_file(const std::string& name, const std::string& yaml) const {
        std::ofstream(workflows_dir / (name + ".yaml")) << yaml;
    }

    std::unique_ptr<ChildProcess> start_worker(std::vector<std::string> extra = {}) {
        std::vector<std::string> args{"redis=" + redis_url(), "db=" + db.url(),
                                      "prefix=" + guard.prefix(),
                                      "workflows=" + workflows_dir.string()};
        args.insert(args.end(), extra.begin(), extra.end());
        return std::make_unique<ChildProcess>(runtime_worker_binary(), args);
    }

    /// Environment for running the artistsaid binary against this fixture's services.
    CliOptions cli_options() const {
        CliOptions o;
        o.env = {{"ARTISTSAID_DATABASE_URL", db.url()},
                 {"ARTISTSAID_REDIS_URL", redis_url()},
                 {"ARTISTSAID_QUEUE_PREFIX", guard.prefix()},
                 {"ARTISTSAID_WORKFLOWS_DIR", workflows_dir.string()},
                 {"ARTISTSAID_LOG_FORMAT", "text"}};
        return o;
    }

    long long scalar(const std::string& sql) {
        pqxx::connection c(db.url());
        pqxx::read_transaction tx(c);
        return tx.exec1(sql)[0].as<long long>();
    }
    std::string text(const std::string& sql) {
        pqxx::connection c(db.url());
        pqxx::read_transaction tx(c);
        auto row = tx.exec1(sql);
        return row[0].is_null() ? "" : row[0].as<std::string>();
    }
    void exec(const std::string& sql) {
        pqxx::connection c(db.url());
        pqxx::work tx(c);
        tx.exec0(sql);
        tx.commit();
    }
    std::string run_status(const std::string& id) {
        pqxx::connection c(db.url());
        pqxx::read_transaction tx(c);
        return tx.exec_params1("SELECT status FROM workflow_runs WHERE id = $1::uuid", id)[0]
            .as<std::string>();
    }
    /// The status of each step's own row (not fan-out items).
    std::map<std::string, std::string> step_statuses(const std::string& id) {
        pqxx::connection c(db.url());
        pqxx::read_transaction tx(c);
        std::map<std::string, std::string> out;
        for (const auto& r : tx.exec_params(
                 "SELECT step_id, status FROM step_runs WHERE run_id = $1::uuid "
                 "AND item_index = -1",
                 id))
            out[r[0].as<std::string>()] = r[1].as<std::string>();
        return out;
    }
    nlohmann::json step_outputs(const std::string& run_id, const std::string& step_id) {
        pqxx::connection c(db.url());
        pqxx::read_transaction tx(c);
        auto r = tx.exec_params1(
            "SELECT coalesce(outputs::text, 'null') FROM step_runs WHERE run_id = $1::uuid "
            "AND step_id = $2 AND item_index = -1",
            run_id, step_id);
        return nlohmann::json::parse(r[0].as<std::string>());
    }
    bool finished(const std::string& id, std::chrono::milliseconds timeout = std::chrono::seconds(120)) {
        return eventually(
            [&] {
                auto s = run_status(id);
                return s == "succeeded" || s == "failed" || s == "cancelled";
            },
            timeout);
    }
};

}  // namespace artistsaid::test
