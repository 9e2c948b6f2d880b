// ConnectionPool: keeps up to `max_idle` open PostgreSQL connections to one URL for reuse, so
// that a caller making many short calls (a gateway's batch, a charge batch, the step plugins
// of a worker) does not pay a new backend — fork, authentication, cold catalog caches — for
// each of them.
//
// A connection is handed out as a Lease: a move-only std::unique_ptr whose deleter gives the
// connection back to the pool. Use it like a connection of your own: every transaction on it
// must end before the lease does (pqxx transactions are scoped objects that abort unless
// committed, so declaring the transaction after the lease is enough).
//
// What the pool guarantees to the next user of a connection:
// - it is alive: an idle connection is checked with one round trip when it is handed out, so
//   a backend terminated (or a server restarted) while it sat idle is replaced;
// - it is outside any transaction: a connection given back inside a transaction block — open
//   or failed — or broken, is closed (the server rolls the transaction back), not kept;
// - it has the pool's statement timeout: a connection that libpqxx silently reopened after it
//   broke (a new backend without the session settings) is closed, not kept.
// Session state a user sets outside a transaction (SET without LOCAL, temp tables without
// ON COMMIT DROP, prepared statements, advisory locks) is NOT reset: it stays with the
// connection. Use SET LOCAL and ON COMMIT DROP inside transactions on pooled connections.
//
// A Lease converts from a plain std::unique_ptr<pqxx::connection> (store::connect()), which it
// closes instead of pooling, so code taking a "connection factory" works with either. A lease
// may outlive its pool: it is then closed when given back.
//
// Thread-safety: acquire() and the leases' deleters may run on any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <pqxx/connection>
#include <string>

namespace artistsaid::store {

class ConnectionPool {
    struct State;

public:
    /// The Lease's deleter: gives the connection back to the pool it came from, or closes a
    /// connection that came from no pool.
    class GiveBack {
    public:
        GiveBack() noexcept = default;
        // Implicit on purpose: a std::unique_ptr<pqxx::connection> becomes a Lease.
        GiveBack(std::default_delete<pqxx::connection>) noexcept {}  // NOLINT
        void operator()(pqxx::connection* conn) const noexcept;

    private:
        friend class ConnectionPool;
        GiveBack(std::shared_ptr<State> pool, int backend_pid) noexcept
            : pool_(std::move(pool)), backend_pid_(backend_pid) {}
        std::shared_ptr<State> pool_;
        int backend_pid_ = 0;  // the backend the pool connected; another one means libpqxx reconnected
    };
    using Lease = std::unique_ptr<pqxx::connection, GiveBack>;

    ConnectionPool(std::string url, std::size_t max_idle,
                   std::chrono::milliseconds statement_timeout);
    ~ConnectionPool();
    ConnectionPool(const ConnectionPool&) = delete;
    ConnectionPool& operator=(const ConnectionPool&) = delete;

    /// An idle connection, or a new one (connecting within `connect_timeout`).
    /// Throws what store::connect() throws (InputError without a URL, UnavailableError).
    Lease acquire(std::chrono::seconds connect_timeout);

    /// Connections kept for reuse now (at most max_idle).
    std::size_t idle() const;
    /// The most kept for reuse.
    std::size_t max_idle() const noexcept;

private:
    std::shared_ptr<State> state_;
};

}  // namespace artistsaid::store
