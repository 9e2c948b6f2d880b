// A token bucket per API key in Redis: `rate` requests per second on average, bursts up
// to `burst`. One Lua script call per request; the script reads Redis's own clock (TIME),
// so any number of servers share one bucket per key consistently.
// Thread-safety: stateless apart from the script; the connection is the caller's.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "engine/queue/lua_script.hpp"

namespace artistsaid::http {

class RateLimiter {
public:
    RateLimiter(std::string prefix, int rate_per_second, int burst);
    /// nullopt: allowed (one token taken); else how long until a token is available.
    std::optional<std::chrono::milliseconds> take(queue::RedisConnection& conn,
                                                  const std::string& bucket) const;

private:
    std::string prefix_;
    int rate_;
    int burst_;
    queue::LuaScript script_;
};

}  // namespace artistsaid::http
