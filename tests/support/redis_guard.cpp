#include "tests/support/redis_guard.hpp"

#include "tests/support/test_env.hpp"

namespace artistsaid::test {

queue::RedisConnection redis_connection() {
    return queue::RedisConnection(queue::RedisEndpoint::parse(redis_url()),
                                  std::chrono::seconds(2), std::chrono::seconds(5));
}

RedisPrefixGuard::RedisPrefixGuard() : prefix_(unique_name("t")) {}

RedisPrefixGuard::~RedisPrefixGuard() {
    try {
        auto conn = redis_connection();
        for (const std::string& pattern : {"{" + prefix_ + ":*", prefix_ + ":*"}) {
            std::string cursor = "0";
            do {
                auto reply = conn.command({"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"});
                auto v = reply.view();
                cursor = v[0].string();
                std::vector<std::string> del{"UNLINK"};
                for (size_t i = 0; i < v[1].size(); ++i) del.push_back(v[1][i].string());
                if (del.size() > 1) conn.command(del);
            } while (cursor != "0");
        }
    } catch (...) {
        // Best effort: the private Redis is thrown away after the run anyway.
    }
}

}  // namespace artistsaid::test
