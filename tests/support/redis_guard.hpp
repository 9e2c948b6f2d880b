// A key prefix of the test's own in the private Redis, and a guard that deletes every key
// under it when the test ends (as redis-plus-plus's tests do).
#pragma once

#include <string>

#include "engine/queue/redis_connection.hpp"

namespace artistsaid::test {

/// A connection to the test Redis (ARTISTSAID_TEST_REDIS_URL).
queue::RedisConnection redis_connection();

class RedisPrefixGuard {
public:
    RedisPrefixGuard();
    ~RedisPrefixGuard();
    RedisPrefixGuard(const RedisPrefixGuard&) = delete;
    RedisPrefixGuard& operator=(const RedisPrefixGuard&) = delete;

    const std::string& prefix() const { return prefix_; }

private:
    std::string prefix_;
};

}  // namespace artistsaid::test
