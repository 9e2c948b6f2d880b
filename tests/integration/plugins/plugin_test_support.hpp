// Helpers for the plugin integration tests: a migrated throw-away database and StepCalls.
#pragma once

#include <chrono>
#include <memory>
#include <pqxx/pqxx>
#include <string>

#include "engine/runtime/step_plugin.hpp"
#include "engine/store/migrator.hpp"
#include "tests/support/temp_database.hpp"
#include "tests/support/test_env.hpp"

namespace artistsaid::test {

/// A TempDatabase with every migration applied.
inline std::unique_ptr<TempDatabase> migrated_database() {
    auto db = std::make_unique<TempDatabase>();
    store::Migrator(db->url(), source_dir() + "/migrations").up();
    return db;
}

inline runtime::StepCall step_call(nlohmann::json with, std::string key = unique_name("run:step"),
                                   std::chrono::seconds budget = std::chrono::seconds(30)) {
    runtime::StepCall call;
    call.run_id = "00000000-0000-0000-0000-000000000000";
    call.step_id = "step";
    call.idempotency_key = std::move(key);
    call.with = std::move(with);
    call.deadline = std::chrono::system_clock::now() + budget;
    return call;
}

inline long long count_rows(const std::string& url, const std::string& sql) {
    pqxx::connection c(url);
    pqxx::nontransaction tx(c);
    return tx.exec1(sql)[0].as<long long>();
}

}  // namespace artistsaid::test
