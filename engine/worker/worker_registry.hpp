// Worker heartbeats in Redis, for `artistsaid queue workers`: each worker process writes
// its host, pid, queues, busy count and last beat every few seconds to a key that expires
// after three missed beats, so a dead worker's entry disappears by itself.
// Thread-safety: borrows a connection; one per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/queue/redis_connection.hpp"

namespace artistsaid::worker {

struct WorkerInfo {
    std::string id;
    std::string host;
    int pid = 0;
    std::vector<std::string> queues;
    int concurrency = 0;
    int busy = 0;
    int64_t started_ms = 0;
    int64_t beat_ms = 0;
    bool quiet = false;  // shutting down: no longer fetching
    long long processed = 0;
    long long failed = 0;
};

class WorkerRegistry {
public:
    WorkerRegistry(queue::RedisConnection& connection, std::string prefix);

    void beat(const WorkerInfo& info, std::chrono::milliseconds ttl);
    void remove(const std::string& id);
    /// Live workers, oldest first; entries whose heartbeat expired are pruned.
    std::vector<WorkerInfo> list();

private:
    queue::RedisConnection& conn_;
    std::string prefix_;
};

}  // namespace artistsaid::worker
