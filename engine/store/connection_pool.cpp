#include "engine/store/connection_pool.hpp"

#include <pqxx/pqxx>

#include "engine/store/database.hpp"

namespace artistsaid::store {

ConnectionPool::ConnectionPool(std::string url, std::size_t max_idle,
                               std::chrono::milliseconds statement_timeout)
    : url_(std::move(url)), max_idle_(max_idle), statement_timeout_(statement_timeout) {}

ConnectionPool::Lease ConnectionPool::acquire(std::chrono::seconds connect_timeout) {
    {
        std::lock_guard lock(mutex_);
        while (!idle_.empty()) {
            auto conn = std::move(idle_.back());
            idle_.pop_back();
            // One round trip (≈0.1 ms) notices a backend that was terminated, or a server
            // that restarted, while the connection sat idle: such a connection is dropped
            // here rather than failing the caller's first statement.
            try {
                pqxx::nontransaction(*conn).exec("SELECT 1");
            } catch (const std::exception&) {
                continue;
            }
            return Lease(this, std::move(conn));
        }
    }
    return Lease(this, connect(url_, connect_timeout, statement_timeout_));
}

void ConnectionPool::release(std::unique_ptr<pqxx::connection> conn) noexcept {
    // A connection whose server went away is not reused. (Its transactions ended before the
    // lease did: pqxx transactions are scoped objects that abort unless committed.)
    if (!conn || !conn->is_open()) return;
    std::lock_guard lock(mutex_);
    if (idle_.size() < max_idle_) idle_.push_back(std::move(conn));
}

ConnectionPool::Lease::~Lease() {
    if (pool_ && conn_) pool_->release(std::move(conn_));
}

}  // namespace artistsaid::store
