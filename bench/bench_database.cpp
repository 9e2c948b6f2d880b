#include "bench/bench_database.hpp"

#include <fstream>
#include <pqxx/pqxx>
#include <sstream>

#include "engine/core/error.hpp"
#include "engine/core/id.hpp"
#include "engine/store/migrator.hpp"

namespace artistsaid::bench {
namespace {

// The URL of another database on the same server: postgresql://…/db?params or key=value.
std::string with_database(const std::string& url, const std::string& db) {
    auto scheme_end = url.find("://");
    if (scheme_end == std::string::npos) return url + " dbname=" + db;
    auto path = url.find('/', scheme_end + 3);
    auto query = url.find('?');
    std::string params = query == std::string::npos ? "" : url.substr(query);
    std::string base = path == std::string::npos ? url.substr(0, query) : url.substr(0, path);
    return base + "/" + db + params;
}

}  // namespace

BenchDatabase::BenchDatabase(const std::string& admin_url, const std::filesystem::path& migrations,
                             const std::string& stem, const std::string& what)
    : admin_url_(admin_url), name_(stem + new_id().substr(24)) {
    try {
        pqxx::connection admin(admin_url_);
        pqxx::nontransaction tx(admin);
        tx.exec0("CREATE DATABASE " + tx.quote_name(name_));
    } catch (const pqxx::broken_connection&) {
        throw UnavailableError(what + ": cannot connect to PostgreSQL");
    } catch (const pqxx::sql_error& e) {
        throw UnavailableError(what + " needs a role that may create a database of its own: " +
                               e.what());
    }
    url_ = with_database(admin_url_, name_);
    store::Migrator(url_, migrations).up();
}

BenchDatabase::~BenchDatabase() {
    try {
        pqxx::connection admin(admin_url_);
        pqxx::nontransaction tx(admin);
        tx.exec0("DROP DATABASE IF EXISTS " + tx.quote_name(name_) + " WITH (FORCE)");
    } catch (const std::exception&) {
        // Best effort: the name says what it is.
    }
}

long proc_status_kib(long pid, const std::string& field) {
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

}  // namespace artistsaid::bench
