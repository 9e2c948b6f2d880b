// ConnectionPool against a real PostgreSQL: a returned connection is handed out again (same
// backend), concurrent leases get different ones, no more than max_idle are kept, a backend
// terminated while idle is replaced, and the statement timeout applies to every lease.
// A connection given back inside a transaction block (open or failed), broken, or reopened
// by libpqxx is closed rather than kept; concurrent leases never share a connection.
#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/store/connection_pool.hpp"
#include "engine/store/database.hpp"
#include "tests/support/temp_database.hpp"

namespace {

using artistsaid::store::ConnectionPool;
using namespace std::chrono_literals;

int backend_of(pqxx::connection& conn) {
    pqxx::nontransaction tx(conn);
    return tx.exec1("SELECT pg_backend_pid()")[0].as<int>();
}

bool backend_exists(pqxx::connection& admin, int pid) {
    return pqxx::nontransaction(admin)
               .exec1("SELECT count(*) FROM pg_stat_activity WHERE pid = " + std::to_string(pid))[0]
               .as<int>() > 0;
}

// Waits (at most 5 s) until the backend `pid` has exited; whether it did.
bool backend_gone(pqxx::connection& admin, int pid) {
    for (int i = 0; i < 100; ++i) {
        if (!backend_exists(admin, pid)) return true;
        pqxx::nontransaction(admin).exec("SELECT pg_sleep(0.05)");
    }
    return false;
}

void terminate(pqxx::connection& admin, int pid) {
    pqxx::nontransaction(admin).exec1("SELECT pg_terminate_backend(" + std::to_string(pid) + ")");
    REQUIRE(backend_gone(admin, pid));
}

// Whether the connection is outside any transaction block (see connection_pool.cpp).
bool outside_transaction(pqxx::connection& conn) {
    pqxx::nontransaction tx(conn);
    return tx.exec1("SELECT transaction_timestamp() = statement_timestamp()")[0].as<bool>();
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

TEST_CASE("Store.ConnectionPool.ClosesAConnectionGivenBackInsideAnOpenTransaction") {
    artistsaid::test::TempDatabase db;
    ConnectionPool pool(db.url(), 4, 5000ms);
    pqxx::connection admin(db.url());
    pqxx::nontransaction(admin).exec0("CREATE TABLE t (id int)");
    int pid = 0;
    {
        auto lease = pool.acquire(5s);
        pid = backend_of(*lease);
        {
            pqxx::nontransaction tx(*lease);
            tx.exec0("BEGIN");
            tx.exec0("INSERT INTO t VALUES (1)");
        }  // a nontransaction does not end the server's transaction block
        CHECK_FALSE(outside_transaction(*lease));
    }
    CHECK(pool.idle() == 0);
    CHECK(backend_gone(admin, pid));  // closed: the server rolled the block back
    CHECK(pqxx::nontransaction(admin).exec1("SELECT count(*) FROM t")[0].as<int>() == 0);
    auto lease = pool.acquire(5s);
    CHECK(backend_of(*lease) != pid);
    CHECK(outside_transaction(*lease));
}

TEST_CASE("Store.ConnectionPool.ClosesAConnectionGivenBackInAFailedTransaction") {
    artistsaid::test::TempDatabase db;
    ConnectionPool pool(db.url(), 4, 5000ms);
    pqxx::connection admin(db.url());
    int pid = 0;
    {
        auto lease = pool.acquire(5s);
        pid = backend_of(*lease);
        pqxx::nontransaction tx(*lease);
        tx.exec0("BEGIN");
        CHECK_THROWS_AS(tx.exec("SELECT 1 / 0"), pqxx::sql_error);
    }
    CHECK(pool.idle() == 0);
    CHECK(backend_gone(admin, pid));
    auto lease = pool.acquire(5s);
    CHECK(backend_of(*lease) != pid);
    CHECK(pqxx::nontransaction(*lease).exec1("SELECT 2")[0].as<int>() == 2);
}

TEST_CASE("Store.ConnectionPool.KeepsAConnectionWhoseTransactionsEnded") {
    // Committed and aborted pqxx transactions (the way every step uses its connection) leave
    // the connection reusable: the same backend serves the next lease.
    artistsaid::test::TempDatabase db;
    ConnectionPool pool(db.url(), 4, 5000ms);
    int pid = 0;
    {
        auto lease = pool.acquire(5s);
        pid = backend_of(*lease);
        {
            pqxx::work tx(*lease);
            tx.exec0("CREATE TEMP TABLE scratch ON COMMIT DROP AS SELECT 1 AS x");
            tx.exec0("SET LOCAL work_mem = '8MB'");
            tx.commit();
        }
        {
            pqxx::work tx(*lease);
            CHECK_THROWS(tx.exec("SELECT 1 / 0"));
        }  // aborted by its destructor
    }
    CHECK(pool.idle() == 1);
    auto lease = pool.acquire(5s);
    CHECK(backend_of(*lease) == pid);
    CHECK(outside_transaction(*lease));
    // SET LOCAL ended with its transaction; the pool's session settings are still there.
    CHECK(pqxx::nontransaction(*lease).exec1("SHOW work_mem")[0].as<std::string>() != "8MB");
    CHECK(pqxx::nontransaction(*lease).exec1("SHOW statement_timeout")[0].as<std::string>() == "5s");
}

TEST_CASE("Store.ConnectionPool.ClosesAConnectionWhoseBackendWasTerminatedWhileLeased") {
    artistsaid::test::TempDatabase db;
    ConnectionPool pool(db.url(), 4, 5000ms);
    pqxx::connection admin(db.url());
    int pid = 0;
    {
        auto lease = pool.acquire(5s);
        pid = backend_of(*lease);
        terminate(admin, pid);
    }  // given back unused: libpq does not know yet that the backend is gone
    CHECK(pool.idle() == 0);
    auto lease = pool.acquire(5s);
    CHECK(backend_of(*lease) != pid);
}

TEST_CASE("Store.ConnectionPool.ClosesAConnectionThatLibpqxxReopened") {
    // libpqxx silently reconnects a broken connection on its next transaction — a new backend
    // without the pool's statement timeout. Such a connection must not be kept.
    artistsaid::test::TempDatabase db;
    ConnectionPool pool(db.url(), 4, 200ms);
    pqxx::connection admin(db.url());
    int pid = 0;
    int reopened = 0;
    {
        auto lease = pool.acquire(5s);
        pid = backend_of(*lease);
        terminate(admin, pid);
        CHECK_THROWS(backend_of(*lease));  // the step sees the break...
        for (int i = 0; i < 3 && reopened == 0; ++i) {
            try {
                pqxx::work tx(*lease);  // ...and carries on: libpqxx reconnects
                reopened = tx.exec1("SELECT pg_backend_pid()")[0].as<int>();
            } catch (const std::exception&) {  // libpqxx may need a second try
            }
        }
        REQUIRE(reopened != 0);
        CHECK(reopened != pid);
        CHECK(pqxx::nontransaction(*lease).exec1("SHOW statement_timeout")[0].as<std::string>() !=
              "200ms");
    }
    CHECK(pool.idle() == 0);
    CHECK(backend_gone(admin, reopened));
    auto lease = pool.acquire(5s);
    CHECK(pqxx::nontransaction(*lease).exec1("SHOW statement_timeout")[0].as<std::string>() ==
          "200ms");
}

TEST_CASE("Store.ConnectionPool.ConcurrentLeasesNeverShareAConnection") {
    artistsaid::test::TempDatabase db;
    for (const std::size_t max_idle : {std::size_t{1}, std::size_t{4}}) {
        CAPTURE(max_idle);
        ConnectionPool pool(db.url(), max_idle, 5000ms);
        constexpr int kThreads = 8;
        constexpr int kCalls = 50;
        std::mutex mutex;
        std::set<int> in_use;           // backends leased right now
        std::set<int> seen;             // every backend leased
        std::atomic<int> shared{0};     // a backend leased twice at once
        std::atomic<int> over_bound{0};  // idle() above max_idle
        std::atomic<int> failed{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&] {
                for (int i = 0; i < kCalls; ++i) {  // bounded: kCalls leases, each a few statements
                    try {
                        auto lease = pool.acquire(5s);
                        const int pid = backend_of(*lease);
                        {
                            std::lock_guard lock(mutex);
                            if (!in_use.insert(pid).second) ++shared;
                            seen.insert(pid);
                        }
                        pqxx::work tx(*lease);
                        tx.exec("SELECT count(*) FROM generate_series(1, 100)");
                        tx.commit();
                        std::lock_guard lock(mutex);
                        in_use.erase(pid);
                    } catch (const std::exception&) {
                        ++failed;
                    }
                    if (pool.idle() > max_idle) ++over_bound;
                }
            });
        }
        for (auto& t : threads) t.join();
        CHECK(failed == 0);
        CHECK(shared == 0);
        CHECK(over_bound == 0);
        CHECK(pool.idle() <= max_idle);
        CHECK(pool.idle() >= 1);
        CHECK(seen.size() >= 2);  // the threads did overlap
        // Reuse: far fewer backends than leases.
        CHECK(seen.size() < static_cast<std::size_t>(kThreads * kCalls));
    }
}

TEST_CASE("Store.ConnectionPool.ALeaseMayOutliveItsPool") {
    artistsaid::test::TempDatabase db;
    pqxx::connection admin(db.url());
    std::optional<ConnectionPool> pool;
    pool.emplace(db.url(), 4, 5000ms);
    auto lease = pool->acquire(5s);
    const int pid = backend_of(*lease);
    pool.reset();
    CHECK(backend_of(*lease) == pid);  // still usable
    lease.reset();                      // closed, not returned to the destroyed pool
    CHECK(backend_gone(admin, pid));
}

TEST_CASE("Store.ConnectionPool.APlainConnectionConvertsToALeaseThatClosesIt") {
    // What a test's connection factory returns (store::connect) works as a Lease.
    artistsaid::test::TempDatabase db;
    pqxx::connection admin(db.url());
    ConnectionPool::Lease lease = artistsaid::store::connect(db.url());
    const int pid = backend_of(*lease);
    lease.reset();
    CHECK(backend_gone(admin, pid));
}
