// A worker process for the integration tests: the real Launcher with the diagnostic
// handlers plus two that record what ran in Redis, so tests can count executions
// (duplicates included), in-flight jobs and start times.
//   test.record {"list": K, "sleep_ms": N}   RPUSH K:started id, sleep N, RPUSH K:done id
//   test.track  {"key": K, "sleep_ms": N}    counts in-flight jobs of K (K:inflight, K:max)
//                                            and start times (K:starts, Redis clock, ms)
// Arguments: key=value pairs for redis, prefix, queues, concurrency, lease_ms, grace_ms,
// heartbeat_ms.
#include <csignal>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include "engine/core/logging.hpp"
#include "engine/queue/redis_connection.hpp"
#include "engine/worker/diagnostic_handlers.hpp"
#include "engine/worker/launcher.hpp"

using namespace artistsaid;

namespace {

std::string redis_url;

queue::RedisConnection& connection() {
    thread_local queue::RedisConnection conn(queue::RedisEndpoint::parse(redis_url),
                                             std::chrono::seconds(2), std::chrono::seconds(5));
    return conn;
}

void sleep_ms(const nlohmann::json& payload) {
    std::this_thread::sleep_for(std::chrono::milliseconds(payload.value("sleep_ms", 0)));
}

}  // namespace

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);  // as the CLI does (cli/main.cpp)
    std::map<std::string, std::string> args;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto eq = a.find('=');
        if (eq != std::string::npos) args[a.substr(0, eq)] = a.substr(eq + 1);
    }
    redis_url = args["redis"];
    logging::init({"info", "text"});

    worker::WorkerOptions options;
    options.redis_url = redis_url;
    options.prefix = args["prefix"];
    options.queues.clear();
    std::stringstream queues(args.count("queues") ? args["queues"] : "default");
    for (std::string q; std::getline(queues, q, ',');) options.queues.push_back(q);
    if (args.count("concurrency")) options.concurrency = std::stoi(args["concurrency"]);
    if (args.count("lease_ms")) options.lease = std::chrono::milliseconds(std::stoi(args["lease_ms"]));
    if (args.count("grace_ms")) options.grace = std::chrono::milliseconds(std::stoi(args["grace_ms"]));
    if (args.count("heartbeat_ms"))
        options.heartbeat = std::chrono::milliseconds(std::stoi(args["heartbeat_ms"]));

    worker::HandlerRegistry handlers;
    worker::register_diagnostic_handlers(handlers);
    handlers.add("test.record", [](const worker::JobContext& ctx) {
        std::string list = ctx.payload.at("list").get<std::string>();
        connection().command({"RPUSH", list + ":started", ctx.job.id});
        sleep_ms(ctx.payload);
        connection().command({"RPUSH", list + ":done", ctx.job.id});
    });
    handlers.add("test.track", [](const worker::JobContext& ctx) {
        std::string key = ctx.payload.at("key").get<std::string>();
        static const char* kStart =
            "local n = redis.call('INCR', KEYS[1] .. ':inflight') "
            "local m = tonumber(redis.call('GET', KEYS[1] .. ':max') or '0') "
            "if n > m then redis.call('SET', KEYS[1] .. ':max', n) end "
            "local t = redis.call('TIME') "
            "redis.call('RPUSH', KEYS[1] .. ':starts', tonumber(t[1]) * 1000 + "
            "math.floor(tonumber(t[2]) / 1000)) return n";
        connection().command({"EVAL", kStart, "1", key});
        sleep_ms(ctx.payload);
        connection().command({"DECR", key + ":inflight"});
    });

    worker::Launcher launcher(options, handlers);
    bool clean = launcher.run(true);
    if (!clean) std::_Exit(0);
    return 0;
}
