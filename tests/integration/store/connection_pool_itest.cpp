// ConnectionPool against a real PostgreSQL: a returned connection is handed out again (same
// backend), concurrent leases get different ones, no more than max_idle are kept, a backend
// terminated while idle is replaced, and the statement timeout applies to every lease.
#include <doctest/doctest.h>

#include <pqxx/pqxx>
#include <set>
#include <string>
#include <vector>

#include "engine/store/connection_pool.hpp"
#include "tests/support/temp_database.hpp"

namespace {

using artistsaid::store::ConnectionPool;
using namespace std::chrono_literals;

int backend_of(pqxx::connection& conn) {
    pqxx::nontransaction tx(conn);
    return tx.exec1("SELECT pg_backend_pid()")[0].as<int>();
}

}  // namespace

TEST_CASE("Store.ConnectionPool.ReusesReturnedConnectionsUpToMaxIdle") {
    artistsaid::test::TempDatabase db;
    ConnectionPool pool(db.url(), 2, 5000ms);
    int first = 0;
    {
        auto lease = pool.acquire(5s);
        first = backend_of(*lease);
    }
    {
        auto lease = pool.acquire(5s);
        CHECK(backend_of(*lease) == first);  // the same backend again
    }
    std::set<int> three;
    {
        std::vector<ConnectionPool::Lease> leases;
        for (int i = 0; i < 3; ++i) leases.push_back(pool.acquire(5s));
        for (auto& l : leases) three.insert(backend_of(*l));
        CHECK(three.size() == 3);  // concurrent leases never share a connection
    }
    // Only two of the three were kept: acquiring three again opens one new backend.
    std::set<int> again;
    std::vector<ConnectionPool::Lease> leases;
    for (int i = 0; i < 3; ++i) leases.push_back(pool.acquire(5s));
    for (auto& l : leases) again.insert(backend_of(*l));
    int reused = 0;
    for (int pid : again) reused += static_cast<int>(three.count(pid));
    CHECK(reused == 2);
}

TEST_CASE("Store.ConnectionPool.ReplacesABackendTerminatedWhileIdle") {
    artistsaid::test::TempDatabase db;
    ConnectionPool pool(db.url(), 4, 5000ms);
    int pid = 0;
    {
        auto lease = pool.acquire(5s);
        pid = backend_of(*lease);
    }
    pqxx::connection admin(db.url());
    pqxx::nontransaction(admin).exec1("SELECT pg_terminate_backend(" + std::to_string(pid) + ")");
    // Wait (bounded) until the server has gone.
    for (int i = 0; i < 100; ++i) {
        if (pqxx::nontransaction(admin)
                .exec1("SELECT count(*) FROM pg_stat_activity WHERE pid = " + std::to_string(pid))[0]
                .as<int>() == 0)
            break;
        pqxx::nontransaction(admin).exec("SELECT pg_sleep(0.05)");
    }
    auto lease = pool.acquire(5s);
    CHECK(backend_of(*lease) != pid);  // a working, new connection
}

TEST_CASE("Store.ConnectionPool.LeasesHaveTheStatementTimeout") {
    artistsaid::test::TempDatabase db;
    ConnectionPool pool(db.url(), 1, 200ms);
    auto lease = pool.acquire(5s);
    pqxx::nontransaction tx(*lease);
    CHECK_THROWS(tx.exec("SELECT pg_sleep(2)"));
}
