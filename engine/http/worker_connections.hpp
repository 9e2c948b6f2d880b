// One PostgreSQL and one Redis connection per BlockingPool thread, opened on first use with
// the configured deadlines; a connection that failed is dropped and opened again on the
// next request. Thread-safety: worker i's connections are used only by worker thread i.
#pragma once

#include <chrono>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "engine/queue/redis_connection.hpp"

namespace artistsaid::http {

struct ConnectionSettings {
    std::string database_url;
    std::string redis_url;
    std::chrono::seconds connect_timeout{5};
    std::chrono::milliseconds statement_timeout{std::chrono::seconds(30)};
    std::chrono::milliseconds redis_timeout{std::chrono::seconds(5)};
};

class WorkerConnections {
public:
    WorkerConnections(ConnectionSettings settings, std::size_t workers);

    /// Throws UnavailableError if PostgreSQL cannot be reached.
    pqxx::connection& pg(std::size_t worker);
    queue::RedisConnection& redis(std::size_t worker);
    /// Drops worker's PostgreSQL connection (after an error that may have broken it).
    void drop_pg(std::size_t worker);

private:
    ConnectionSettings settings_;
    queue::RedisEndpoint endpoint_;
    std::vector<std::unique_ptr<pqxx::connection>> pg_;
    std::vector<std::unique_ptr<queue::RedisConnection>> redis_;
};

}  // namespace artistsaid::http
