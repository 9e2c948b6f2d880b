#include "cli/connections.hpp"

namespace artistsaid::cli {

queue::RedisConnection redis_connection(const Config& config) {
    return queue::RedisConnection(queue::RedisEndpoint::parse(config.redis_url()),
                                  config.duration("connect_timeout"), std::chrono::seconds(10));
}

}  // namespace artistsaid::cli
