#include "engine/store/connection_pool.hpp"

#include <mutex>
#include <pqxx/pqxx>
#include <vector>

#include "engine/store/database.hpp"

namespace artistsaid::store {

struct ConnectionPool::State {
    struct Idle {
        std::unique_ptr<pqxx::connection> conn;
        int backend_pid = 0;
    };

    State(std::string u, std::size_t m, std::chrono::milliseconds t)
        : url(std::move(u)), max_idle(m), statement_timeout(t) {}

    const std::string url;
    const std::size_t max_idle;
    const std::chrono::milliseconds statement_timeout;
    std::mutex mutex;
    std::vector<Idle> idle;  // guarded by mutex
    bool open = true;        // guarded by mutex; false once the ConnectionPool is destroyed
};

namespace {

// Whether an idle connection still reaches its backend. One round trip (≈0.1 ms) notices a
// backend that was terminated, or a server that restarted, while the connection sat idle:
// such a connection is dropped here rather than failing the caller's first statement.
bool alive(pqxx::connection& conn) noexcept {
    // A connection libpq already knows to be broken is not used: libpqxx would reconnect it
    // without the session settings.
    if (!conn.is_open()) return false;
    try {
        pqxx::nontransaction(conn).exec("SELECT 1");
        return true;
    } catch (...) {
        return false;
    }
}

// Whether a connection given back may serve the next user: still the backend the pool
// connected (libpqxx reopens a broken connection on its next use, without our SET
// statement_timeout), and outside any transaction block. Outside a block every statement is
// the first of its own transaction, so its statement_timestamp() equals
// transaction_timestamp(); in a block opened by an earlier statement (a raw BEGIN) they
// differ, and in a failed block the query itself fails. A libpqxx transaction still open on
// the connection makes the nontransaction throw (usage_error): closed too.
bool reusable(pqxx::connection& conn, int backend_pid) noexcept {
    if (!conn.is_open() || conn.backendpid() != backend_pid) return false;
    try {
        pqxx::nontransaction tx(conn);
        return tx.exec1("SELECT transaction_timestamp() = statement_timestamp()")[0].as<bool>();
    } catch (...) {
        return false;
    }
}

}  // namespace

ConnectionPool::ConnectionPool(std::string url, std::size_t max_idle,
                               std::chrono::milliseconds statement_timeout)
    : state_(std::make_shared<State>(std::move(url), max_idle, statement_timeout)) {}

ConnectionPool::~ConnectionPool() {
    std::vector<State::Idle> closing;
    {
        std::lock_guard lock(state_->mutex);
        state_->open = false;
        closing.swap(state_->idle);
    }
}  // the idle connections close here, outside the lock

ConnectionPool::Lease ConnectionPool::acquire(std::chrono::seconds connect_timeout) {
    for (;;) {
        State::Idle entry;
        {
            std::lock_guard lock(state_->mutex);
            if (state_->idle.empty()) break;
            entry = std::move(state_->idle.back());
            state_->idle.pop_back();
        }
        // Checked outside the lock, so concurrent acquires do not queue behind round trips.
        if (alive(*entry.conn)) return Lease(entry.conn.release(), GiveBack(state_, entry.backend_pid));
    }
    auto conn = connect(state_->url, connect_timeout, state_->statement_timeout);
    const int pid = conn->backendpid();
    return Lease(conn.release(), GiveBack(state_, pid));
}

std::size_t ConnectionPool::idle() const {
    std::lock_guard lock(state_->mutex);
    return state_->idle.size();
}

std::size_t ConnectionPool::max_idle() const noexcept { return state_->max_idle; }

void ConnectionPool::GiveBack::operator()(pqxx::connection* raw) const noexcept {
    std::unique_ptr<pqxx::connection> conn(raw);  // closes, unless kept below
    if (!pool_ || !conn) return;
    auto room = [this] { return pool_->open && pool_->idle.size() < pool_->max_idle; };
    {
        std::lock_guard lock(pool_->mutex);
        if (!room()) return;  // no round trip for a connection that would not be kept anyway
    }
    if (!reusable(*conn, backend_pid_)) return;
    std::lock_guard lock(pool_->mutex);
    if (room()) pool_->idle.push_back({std::move(conn), backend_pid_});
}

}  // namespace artistsaid::store
