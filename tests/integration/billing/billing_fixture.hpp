// A migrated throw-away database with helpers to create billing data, for the billing
// integration tests.
#pragma once

#include <filesystem>
#include <pqxx/pqxx>
#include <string>

#include "engine/store/migrator.hpp"
#include "tests/support/temp_database.hpp"
#include "tests/support/test_env.hpp"

namespace artistsaid::test {

struct BillingDatabase {
    BillingDatabase() : conn(migrate(db)) {}

    static std::string migrate(const TempDatabase& db) {
        store::Migrator(db.url(), std::filesystem::path(source_dir()) / "migrations").up();
        return db.url();
    }

    long long scalar(const std::string& sql) {
        pqxx::nontransaction tx(conn);
        auto r = tx.exec1(sql);
        return r[0].is_null() ? 0 : r[0].as<long long>();
    }
    std::string text(const std::string& sql) {
        pqxx::nontransaction tx(conn);
        auto r = tx.exec1(sql);
        return r[0].is_null() ? std::string("NULL") : r[0].as<std::string>();
    }
    void exec(const std::string& sql) {
        pqxx::work tx(conn);
        tx.exec(sql);
        tx.commit();
    }

    long long service(const std::string& code = "svc", bool taxable = true) {
        return scalar("INSERT INTO services (code, name, kind, taxable) VALUES ('" + code + "', 'Plan " +
                      code + "', 'other', " + (taxable ? "true" : "false") + ") RETURNING id");
    }
    long long client(const std::string& country, const std::string& region,
                     const std::string& currency, bool exempt = false) {
        const long long n = ++clients_;
        return scalar(
            "WITH u AS (INSERT INTO users (email) VALUES ('c" + std::to_string(n) + "_' || "
            "gen_random_uuid() || '@example.test') RETURNING id) "
            "INSERT INTO clients (kind, user_id, name, country, region, currency, tax_exempt) "
            "SELECT 'user', id, 'Client " + std::to_string(n) + "', '" + country + "', " +
            (region.empty() ? std::string("NULL") : "'" + region + "'") + ", '" + currency +
            "', " + (exempt ? "true" : "false") + " FROM u RETURNING id");
    }
    long long subscription(long long client_id, long long service_id, const std::string& currency,
                           const std::string& cycle, int billing_day, const std::string& due,
                           long long price) {
        return scalar("INSERT INTO subscriptions (client_id, service_id, currency, cycle, "
                      "billing_day, start_date, next_due_date, status, price_override) VALUES (" +
                      std::to_string(client_id) + ", " + std::to_string(service_id) + ", '" +
                      currency + "', '" + cycle + "', " + std::to_string(billing_day) + ", '" +
                      due + "', '" + due + "', 'active', " + std::to_string(price) +
                      ") RETURNING id");
    }
    void tax_rate(const std::string& country, const std::string& region, long long ppm,
                  bool inclusive = false, int level = 1, bool compound = false) {
        exec("INSERT INTO tax_rates (country, region, name, rate_ppm, inclusive, compound, level) "
             "VALUES ('" + country + "', " +
             (region.empty() ? std::string("NULL") : "'" + region + "'") + ", 'Tax " + country +
             region + std::to_string(level) + "', " + std::to_string(ppm) + ", " +
             (inclusive ? "true" : "false") + ", " + (compound ? "true" : "false") + ", " +
             std::to_string(level) + ")");
    }

    TempDatabase db;
    pqxx::connection conn;
    long long clients_ = 0;
};

}  // namespace artistsaid::test
