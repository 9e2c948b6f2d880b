#include "engine/store/database.hpp"

#include <pqxx/pqxx>

#include "engine/core/config.hpp"
#include "engine/core/error.hpp"

namespace artistsaid::store {
namespace {

// libpq accepts both URLs and "key=value" strings; add connect_timeout to either,
// unless the caller already chose one.
std::string with_connect_timeout(const std::string& url, std::chrono::seconds timeout) {
    if (url.find("connect_timeout") != std::string::npos) return url;
    std::string seconds = std::to_string(std::max<long long>(1, timeout.count()));
    bool is_url = url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
    if (!is_url) return url + " connect_timeout=" + seconds;
    return url + (url.find('?') == std::string::npos ? "?" : "&") + "connect_timeout=" + seconds;
}

}  // namespace

std::unique_ptr<pqxx::connection> connect(const std::string& url, std::chrono::seconds timeout,
                                          std::chrono::milliseconds statement_timeout) {
    if (url.empty())
        throw InputError("no database configured: set ARTISTSAID_DATABASE_URL or database_url");
    std::unique_ptr<pqxx::connection> conn;
    try {
        conn = std::make_unique<pqxx::connection>(with_connect_timeout(url, timeout));
    } catch (const pqxx::broken_connection& e) {
        // libpq's message names host and port but never the password; still redact the
        // URL we print, in case the password is also the user name or similar.
        std::string reason = e.what();
        while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) reason.pop_back();
        throw UnavailableError("cannot connect to PostgreSQL at " + redact_url(url) + ": " +
                               reason);
    } catch (const std::exception&) {
        throw_from_pqxx("connecting to PostgreSQL at " + redact_url(url));
    }
    try {
        pqxx::nontransaction tx(*conn);
        tx.exec0("SET statement_timeout = " + std::to_string(statement_timeout.count()));
        tx.exec0("SET application_name = 'artistsaid'");
    } catch (const std::exception&) {
        throw_from_pqxx("configuring the PostgreSQL session");
    }
    return conn;
}

void throw_from_pqxx(std::string_view context) {
    std::string where(context);
    try {
        throw;
    } catch (const Error&) {
        throw;
    } catch (const pqxx::broken_connection& e) {
        throw UnavailableError(where + ": PostgreSQL connection lost: " + e.what());
    } catch (const pqxx::integrity_constraint_violation& e) {
        throw StoreError(where + ": " + e.what(), e.sqlstate(), ErrorCode::kConflict);
    } catch (const pqxx::sql_error& e) {
        if (e.sqlstate() == "57014")  // query_canceled: statement_timeout or a cancel
            throw StoreError(where + ": statement timed out or was cancelled: " + e.what(),
                             e.sqlstate(), ErrorCode::kTimeout);
        throw StoreError(where + ": " + e.what(), e.sqlstate());
    } catch (const pqxx::in_doubt_error& e) {
        throw UnavailableError(where + ": commit outcome unknown (connection lost): " + e.what());
    } catch (const std::exception& e) {
        throw StoreError(where + ": " + e.what(), "");
    }
}

}  // namespace artistsaid::store
