// Shared by the schema tests: a throw-away database with every migration applied, one
// connection to it, and two one-statement helpers.
#pragma once

#include <filesystem>
#include <pqxx/pqxx>
#include <string>

#include "engine/store/migrator.hpp"
#include "tests/support/temp_database.hpp"
#include "tests/support/test_env.hpp"

namespace artistsaid::test {

struct MigratedDatabase {
    MigratedDatabase() : conn(migrate(db)) {}

    static std::string migrate(const TempDatabase& db) {
        store::Migrator(db.url(), std::filesystem::path(source_dir()) / "migrations").up();
        return db.url();
    }

    TempDatabase db;
    pqxx::connection conn;
};

// Runs `sql` in a transaction of its own and commits it.
inline void exec_tx(pqxx::connection& conn, const std::string& sql) {
    pqxx::work w(conn);
    w.exec(sql);
    w.commit();
}

inline long long query_int(pqxx::connection& conn, const std::string& sql) {
    pqxx::read_transaction r(conn);
    return r.exec1(sql)[0].as<long long>();
}

}  // namespace artistsaid::test
