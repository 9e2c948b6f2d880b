// Connections the commands open, from the effective configuration, with its timeouts.
#pragma once

#include "engine/core/config.hpp"
#include "engine/queue/redis_connection.hpp"

namespace artistsaid::cli {

queue::RedisConnection redis_connection(const Config& config);

}  // namespace artistsaid::cli
