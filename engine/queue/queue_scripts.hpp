// The queue's Lua scripts: every state transition of a job happens inside one of them,
// atomically. Sources and the key layout are documented in queue_scripts.cpp.
#pragma once

#include "engine/queue/lua_script.hpp"

namespace artistsaid::queue::detail {

struct QueueScripts {
    LuaScript enqueue, fetch, ack, fail, release, renew, cancel, dead_retry, dead_purge, stats;
};

const QueueScripts& scripts();

}  // namespace artistsaid::queue::detail
