// Shared set-up of the gateway integration tests: a throw-away database with every
// migration applied, and helpers that count and create rows.
#pragma once

#include <chrono>
#include <filesystem>
#include <pqxx/pqxx>
#include <string>

#include "engine/store/migrator.hpp"
#include "tests/support/temp_database.hpp"
#include "tests/support/test_env.hpp"

namespace artistsaid::test {

struct GatewayDatabase {
    GatewayDatabase() {
        store::Migrator(db.url(), std::filesystem::path(source_dir()) / "migrations").up();
    }

    const std::string& url() const { return db.url(); }

    long long count(const std::string& sql) const {
        pqxx::connection conn(db.url());
        pqxx::read_transaction tx(conn);
        return tx.exec1(sql)[0].as<long long>();
    }

    std::string text(const std::string& sql) const {
        pqxx::connection conn(db.url());
        pqxx::read_transaction tx(conn);
        auto row = tx.exec1(sql);
        return row[0].is_null() ? "" : row[0].as<std::string>();
    }

    void exec(const std::string& sql) const {
        pqxx::connection conn(db.url());
        pqxx::work tx(conn);
        tx.exec(sql);
        tx.commit();
    }

    /// A client with a user, and an unpaid invoice of `total` minor units in `currency`;
    /// returns the invoice id.
    long long unpaid_invoice(long long total, const std::string& currency,
                             const std::string& number) const {
        pqxx::connection conn(db.url());
        pqxx::work tx(conn);
        auto user = tx.exec_params1(
            "INSERT INTO users (email, display_name) VALUES ($1, 'Ada') RETURNING id",
            number + "@example.test")[0].as<long long>();
        auto client = tx.exec_params1(
            "INSERT INTO clients (kind, user_id, name, country, currency) "
            "VALUES ('user', $1, 'Ada Studio', 'DE', $2) RETURNING id",
            user, currency)[0].as<long long>();
        auto invoice = tx.exec_params1(
            "INSERT INTO invoices (client_id, number, currency, status, due_date, subtotal, "
            "total) VALUES ($1, $2, $3, 'unpaid', CURRENT_DATE + 14, $4, $4) RETURNING id",
            client, number, currency, total)[0].as<long long>();
        tx.commit();
        return invoice;
    }

    TempDatabase db;
};

inline std::chrono::system_clock::time_point in_seconds(int seconds) {
    return std::chrono::system_clock::now() + std::chrono::seconds(seconds);
}

}  // namespace artistsaid::test
