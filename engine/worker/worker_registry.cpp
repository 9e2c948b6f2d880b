#include "engine/worker/worker_registry.hpp"

#include <nlohmann/json.hpp>

namespace artistsaid::worker {

WorkerRegistry::WorkerRegistry(queue::RedisConnection& connection, std::string prefix)
    : conn_(connection), prefix_(std::move(prefix)) {}

void WorkerRegistry::beat(const WorkerInfo& info, std::chrono::milliseconds ttl) {
    nlohmann::json doc = {{"id", info.id},           {"host", info.host},
                          {"pid", info.pid},         {"queues", info.queues},
                          {"concurrency", info.concurrency}, {"busy", info.busy},
                          {"started_ms", info.started_ms},   {"beat_ms", info.beat_ms},
                          {"quiet", info.quiet},     {"processed", info.processed},
                          {"failed", info.failed}};
    conn_.append({"SET", prefix_ + ":worker:" + info.id, doc.dump(), "PX",
                  std::to_string(ttl.count())});
    conn_.append({"ZADD", prefix_ + ":workers", std::to_string(info.started_ms), info.id});
    queue::check_reply(conn_.read_reply(), "writing a heartbeat");
    queue::check_reply(conn_.read_reply(), "writing a heartbeat");
}

void WorkerRegistry::remove(const std::string& id) {
    conn_.append({"DEL", prefix_ + ":worker:" + id});
    conn_.append({"ZREM", prefix_ + ":workers", id});
    conn_.read_reply();
    conn_.read_reply();
}

std::vector<WorkerInfo> WorkerRegistry::list() {
    auto ids = conn_.command({"ZRANGE", prefix_ + ":workers", "0", "-1"});
    queue::check_reply(ids, "listing workers");
    std::vector<WorkerInfo> out;
    auto v = ids.view();
    for (size_t i = 0; i < v.size(); ++i) {
        std::string id = v[i].string();
        auto doc = conn_.command({"GET", prefix_ + ":worker:" + id});
        if (doc.view().is_nil()) {
            conn_.command({"ZREM", prefix_ + ":workers", id});  // its heartbeat expired
            continue;
        }
        auto j = nlohmann::json::parse(doc.view().str(), nullptr, false);
        if (j.is_discarded()) continue;
        WorkerInfo w;
        w.id = id;
        w.host = j.value("host", "");
        w.pid = j.value("pid", 0);
        w.queues = j.value("queues", std::vector<std::string>{});
        w.concurrency = j.value("concurrency", 0);
        w.busy = j.value("busy", 0);
        w.started_ms = j.value("started_ms", int64_t{0});
        w.beat_ms = j.value("beat_ms", int64_t{0});
        w.quiet = j.value("quiet", false);
        w.processed = j.value("processed", 0LL);
        w.failed = j.value("failed", 0LL);
        out.push_back(std::move(w));
    }
    return out;
}

}  // namespace artistsaid::worker
