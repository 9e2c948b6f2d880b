#include "engine/http/worker_connections.hpp"

#include "engine/store/database.hpp"

namespace artistsaid::http {

WorkerConnections::WorkerConnections(ConnectionSettings settings, std::size_t workers)
    : settings_(std::move(settings)),
      endpoint_(queue::RedisEndpoint::parse(settings_.redis_url)),
      pg_(workers),
      redis_(workers) {}

pqxx::connection& WorkerConnections::pg(std::size_t worker) {
    auto& c = pg_.at(worker);
    if (c && !c->is_open()) c.reset();
    if (!c) c = store::connect(settings_.database_url, settings_.connect_timeout,
                               settings_.statement_timeout);
    return *c;
}

queue::RedisConnection& WorkerConnections::redis(std::size_t worker) {
    auto& c = redis_.at(worker);
    if (!c)
        c = std::make_unique<queue::RedisConnection>(
            endpoint_, std::chrono::duration_cast<std::chrono::milliseconds>(settings_.connect_timeout),
            settings_.redis_timeout);
    return *c;
}

void WorkerConnections::drop_pg(std::size_t worker) { pg_.at(worker).reset(); }

}  // namespace artistsaid::http
