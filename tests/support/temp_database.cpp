#include "tests/support/temp_database.hpp"

#include <pqxx/pqxx>

#include "tests/support/test_env.hpp"

namespace artistsaid::test {
namespace {

// Replaces the database part of a postgresql://…/db?params URL.
std::string with_database(const std::string& url, const std::string& db) {
    auto scheme_end = url.find("://");
    auto path = url.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
    auto query = url.find('?');
    std::string params = query == std::string::npos ? "" : url.substr(query);
    std::string base = path == std::string::npos ? url.substr(0, query) : url.substr(0, path);
    return base + "/" + db + params;
}

}  // namespace

TempDatabase::TempDatabase()
    : admin_url_(database_url()), name_(unique_name("aa_test")) {
    pqxx::connection admin(admin_url_);
    pqxx::nontransaction tx(admin);
    tx.exec0("CREATE DATABASE " + tx.quote_name(name_) + " TEMPLATE template0");
    url_ = with_database(admin_url_, name_);
}

TempDatabase::~TempDatabase() {
    try {
        pqxx::connection admin(admin_url_);
        pqxx::nontransaction tx(admin);
        tx.exec0("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = " +
                 tx.quote(name_) + " AND pid <> pg_backend_pid()");
        tx.exec0("DROP DATABASE IF EXISTS " + tx.quote_name(name_));
    } catch (...) {
        // Dropping is best effort: the private server is deleted after the run anyway.
    }
}

}  // namespace artistsaid::test
