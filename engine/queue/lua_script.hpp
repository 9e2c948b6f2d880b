// A Lua script run with EVALSHA. The SHA-1 is computed locally, so the first call needs
// no round trip to load it; a NOSCRIPT reply (Redis restarted, SCRIPT FLUSH, a failover)
// loads the script and retries once. Thread-safety: immutable; share freely.
#pragma once

#include <string>
#include <vector>

#include "engine/queue/redis_connection.hpp"

namespace artistsaid::queue {

class LuaScript {
public:
    LuaScript(std::string name, std::string source);

    /// EVALSHA with `keys` and `args`; loads the script on NOSCRIPT. Error replies are
    /// returned as replies (the caller's check_reply names the script).
    RedisReply run(RedisConnection& conn, const std::vector<std::string>& keys,
                   const std::vector<std::string>& args) const;

    /// Pipelines one EVALSHA per argument list (same keys) and returns the replies in
    /// order: Redis runs the next call while the client prepares or reads the others.
    /// Each call is atomic on its own; on NOSCRIPT (no call ran) the script is loaded and
    /// the pipeline sent again.
    std::vector<RedisReply> run_pipelined(RedisConnection& conn,
                                          const std::vector<std::string>& keys,
                                          const std::vector<std::vector<std::string>>& args) const;

    const std::string& name() const { return name_; }
    const std::string& sha() const { return sha_; }

private:
    std::string name_;
    std::string source_;
    std::string sha_;
};

}  // namespace artistsaid::queue
