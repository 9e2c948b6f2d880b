// ConnectionPool: keeps up to `max_idle` open PostgreSQL connections to one URL for reuse, so
// that a caller making many short calls (a gateway's batch, a charge batch) does not pay a
// new backend — fork, authentication, cold catalog caches — for each of them.
//
// A connection is handed out as a move-only Lease that goes back to the pool in its
// destructor, unless it broke (then it is closed). Use it like a connection of your own:
// every transaction on it must end before the lease does.
// Every lease's connection has the statement timeout the pool was made with.
//
// Thread-safety: acquire() and the leases' destructors may run on any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <pqxx/connection>
#include <string>
#include <vector>

namespace artistsaid::store {

class ConnectionPool {
public:
    class Lease {
    public:
        Lease(Lease&& other) noexcept = default;
        Lease& operator=(Lease&&) = delete;
        Lease(const Lease&) = delete;
        ~Lease();
        pqxx::connection& operator*() const { return *conn_; }
        pqxx::connection* operator->() const { return conn_.get(); }

    private:
        friend class ConnectionPool;
        Lease(ConnectionPool* pool, std::unique_ptr<pqxx::connection> conn)
            : pool_(pool), conn_(std::move(conn)) {}
        ConnectionPool* pool_;
        std::unique_ptr<pqxx::connection> conn_;
    };

    ConnectionPool(std::string url, std::size_t max_idle,
                   std::chrono::milliseconds statement_timeout);

    /// An idle connection, or a new one (connecting within `connect_timeout`).
    Lease acquire(std::chrono::seconds connect_timeout);

private:
    void release(std::unique_ptr<pqxx::connection> conn) noexcept;

    const std::string url_;
    const std::size_t max_idle_;
    const std::chrono::milliseconds statement_timeout_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<pqxx::connection>> idle_;
};

}  // namespace artistsaid::store
