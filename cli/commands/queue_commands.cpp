#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/commands/registry.hpp"
#include "cli/connections.hpp"
#include "cli/table.hpp"
#include "engine/core/duration.hpp"
#include "engine/core/error.hpp"
#include "engine/queue/redis_queue.hpp"
#include "engine/worker/worker_registry.hpp"

namespace artistsaid::cli {
namespace {

std::string format_ms(int64_t ms) {
    if (ms <= 0) return "";
    std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

// Runs `fn` with a queue client on a fresh connection.
template <typename Fn>
int with_queue(Context& ctx, Fn fn) {
    auto conn = redis_connection(ctx.config);
    queue::RedisQueue q(conn, ctx.config.get("queue.prefix"),
                        static_cast<size_t>(ctx.config.integer("queue.max_payload_bytes")));
    return fn(q, conn);
}

std::string queue_option(const Context& ctx) {
    return ctx.options.count("queue") ? ctx.options["queue"].as<std::string>() : "default";
}

void add_queue_option(po::options_description& d) {
    d.add_options()("queue", po::value<std::string>()->value_name("NAME"),
                    "the queue (default: default)");
}

int stats(Context& ctx) {
    return with_queue(ctx, [&](queue::RedisQueue& q, auto&) {
        auto names = ctx.args.empty() ? q.queues() : ctx.args;
        nlohmann::json out = nlohmann::json::array();
        Table table({"QUEUE", "READY", "DELAYED", "RUNNING", "PARKED", "DEAD", "PROCESSED",
                     "FAILED", "RETRIED", "PAUSED"});
        for (const auto& name : names) {
            auto s = q.stats(name);
            out.push_back({{"queue", s.queue},
                           {"ready", s.ready},
                           {"delayed", s.delayed},
                           {"running", s.running},
                           {"parked", s.parked},
                           {"dead", s.dead},
                           {"enqueued", s.enqueued},
                           {"processed", s.processed},
                           {"failed", s.failed},
                           {"retried", s.retried},
                           {"cancelled", s.cancelled},
                           {"paused", s.paused}});
            table.add_row({s.queue, std::to_string(s.ready), std::to_string(s.delayed),
                           std::to_string(s.running), std::to_string(s.parked),
                           std::to_string(s.dead), std::to_string(s.processed),
                           std::to_string(s.failed), std::to_string(s.retried),
                           s.paused ? "yes" : "no"});
        }
        if (ctx.json)
            ctx.out << out.dump(2) << '\n';
        else if (names.empty())
            ctx.out << "no queues yet\n";
        else
            table.print(ctx.out);
        return 0;
    });
}

int workers(Context& ctx) {
    auto conn = redis_connection(ctx.config);
    worker::WorkerRegistry registry(conn, ctx.config.get("queue.prefix"));
    auto list = registry.list();
    if (ctx.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& w : list)
            out.push_back({{"id", w.id},
                           {"host", w.host},
                           {"pid", w.pid},
                           {"queues", w.queues},
                           {"concurrency", w.concurrency},
                           {"busy", w.busy},
                           {"quiet", w.quiet},
                           {"processed", w.processed},
                           {"failed", w.failed},
                           {"started", format_ms(w.started_ms)},
                           {"last_beat", format_ms(w.beat_ms)}});
        ctx.out << out.dump(2) << '\n';
        return 0;
    }
    if (list.empty()) {
        ctx.out << "no live workers\n";
        return 0;
    }
    Table table({"ID", "HOST", "PID", "QUEUES", "BUSY", "STATE", "PROCESSED", "STARTED", "LAST BEAT"});
    for (const auto& w : list) {
        std::string queues;
        for (const auto& q : w.queues) queues += (queues.empty() ? "" : ",") + q;
        table.add_row({w.id, w.host, std::to_string(w.pid), queues,
                       std::to_string(w.busy) + "/" + std::to_string(w.concurrency),
                       w.quiet ? "stopping" : "running", std::to_string(w.processed),
                       format_ms(w.started_ms), format_ms(w.beat_ms)});
    }
    table.print(ctx.out);
    return 0;
}

nlohmann::json dead_json(const queue::DeadJob& d, bool with_payload) {
    nlohmann::json errors = nlohmann::json::parse(d.errors_json, nullptr, false);
    if (errors.is_discarded()) errors = nlohmann::json::array();
    nlohmann::json j = {{"id", d.id},
                        {"type", d.type},
                        {"attempts", d.attempts},
                        {"died_at", format_ms(d.died_at_ms)},
                        {"enqueued_at", format_ms(d.enqueued_at_ms)},
                        {"errors", errors}};
    if (with_payload) j["payload"] = d.payload;
    return j;
}

std::string last_error(const queue::DeadJob& d) {
    auto errors = nlohmann::json::parse(d.errors_json, nullptr, false);
    if (errors.is_array() && !errors.empty() && errors.back().contains("error"))
        return errors.back()["error"].get<std::string>().substr(0, 80);
    return "";
}

int dead_list(Context& ctx) {
    return with_queue(ctx, [&](queue::RedisQueue& q, auto&) {
        int limit = ctx.options.count("limit") ? ctx.options["limit"].as<int>() : 100;
        auto list = q.dead_list(queue_option(ctx), limit);
        if (ctx.json) {
            nlohmann::json out = nlohmann::json::array();
            for (const auto& d : list) out.push_back(dead_json(d, false));
            ctx.out << out.dump(2) << '\n';
            return 0;
        }
        if (list.empty()) {
            ctx.out << "no dead jobs in " << queue_option(ctx) << '\n';
            return 0;
        }
        Table table({"ID", "TYPE", "ATTEMPTS", "DIED AT", "LAST ERROR"});
        for (const auto& d : list)
            table.add_row({d.id, d.type, std::to_string(d.attempts), format_ms(d.died_at_ms),
                           last_error(d)});
        table.print(ctx.out);
        return 0;
    });
}

int dead_show(Context& ctx) {
    return with_queue(ctx, [&](queue::RedisQueue& q, auto&) {
        auto d = q.dead_show(queue_option(ctx), ctx.args.at(0));
        if (!d)
            throw InputError("no dead job " + ctx.args.at(0) + " in queue " + queue_option(ctx),
                             ErrorCode::kNotFound);
        ctx.out << dead_json(*d, true).dump(2) << '\n';
        return 0;
    });
}

int dead_retry(Context& ctx) {
    return with_queue(ctx, [&](queue::RedisQueue& q, auto&) {
        bool all = ctx.options.count("all") > 0;
        if (all == !ctx.args.empty())
            throw InputError("give either a job ID or --all", ErrorCode::kUsage);
        if (all) {
            ctx.out << "retrying " << q.dead_retry_all(queue_option(ctx)) << " dead job(s)\n";
            return 0;
        }
        if (!q.dead_retry(queue_option(ctx), ctx.args[0]))
            throw InputError("no dead job " + ctx.args[0] + " in queue " + queue_option(ctx),
                             ErrorCode::kNotFound);
        ctx.out << "retrying " << ctx.args[0] << '\n';
        return 0;
    });
}

int dead_purge(Context& ctx) {
    return with_queue(ctx, [&](queue::RedisQueue& q, auto&) {
        ctx.out << "purged " << q.dead_purge(queue_option(ctx)) << " dead job(s)\n";
        return 0;
    });
}

int pause(Context& ctx) {
    return with_queue(ctx, [&](queue::RedisQueue& q, auto&) {
        queue::check_queue_name(ctx.args.at(0));
        q.pause(ctx.args[0]);
        ctx.out << "paused " << ctx.args[0] << '\n';
        return 0;
    });
}

int resume(Context& ctx) {
    return with_queue(ctx, [&](queue::RedisQueue& q, auto&) {
        q.resume(ctx.args.at(0));
        ctx.out << "resumed " << ctx.args[0] << '\n';
        return 0;
    });
}

int enqueue(Context& ctx) {
    const auto& o = ctx.options;
    queue::NewJob job;
    job.type = ctx.args.at(0);
    job.payload = o.count("payload") ? o["payload"].as<std::string>() : "{}";
    auto parsed = nlohmann::json::parse(job.payload, nullptr, false);
    if (parsed.is_discarded()) throw InputError("--payload is not valid JSON");
    if (o.count("priority")) job.options.priority = o["priority"].as<int>();
    if (o.count("delay"))
        job.options.run_at =
            std::chrono::system_clock::now() + parse_duration(o["delay"].as<std::string>());
    if (o.count("unique")) job.options.unique_key = o["unique"].as<std::string>();
    if (o.count("concurrency-key")) job.options.concurrency_key = o["concurrency-key"].as<std::string>();
    if (o.count("rate-key")) job.options.rate_key = o["rate-key"].as<std::string>();
    if (o.count("attempts")) job.options.retry.max_attempts = o["attempts"].as<int>();
    if (o.count("backoff")) job.options.retry.base_delay = parse_duration(o["backoff"].as<std::string>());
    return with_queue(ctx, [&](queue::RedisQueue& q, auto&) {
        auto result = q.enqueue(queue_option(ctx), job);
        if (ctx.json)
            ctx.out << nlohmann::json{{"id", result.id}, {"duplicate", result.duplicate}}.dump() << '\n';
        else
            ctx.out << result.id << (result.duplicate ? " (already pending)" : "") << '\n';
        return 0;
    });
}

int cancel(Context& ctx) {
    return with_queue(ctx, [&](queue::RedisQueue& q, auto&) {
        switch (q.cancel(queue_option(ctx), ctx.args.at(0))) {
            case queue::CancelOutcome::kCancelled:
                ctx.out << "cancelled " << ctx.args[0] << '\n';
                return 0;
            case queue::CancelOutcome::kRunning:
                throw WorkError("job " + ctx.args[0] + " is running and cannot be cancelled");
            case queue::CancelOutcome::kDead:
                throw WorkError("job " + ctx.args[0] + " is dead: use 'queue dead purge'");
            case queue::CancelOutcome::kNotFound:
                break;
        }
        throw InputError("no pending job " + ctx.args[0] + " in queue " + queue_option(ctx),
                         ErrorCode::kNotFound);
    });
}

int limit(Context& ctx) {
    const auto& o = ctx.options;
    if (!o.count("concurrency") && !o.count("rate"))
        throw InputError("give --concurrency N and/or --rate N/PERIOD", ErrorCode::kUsage);
    return with_queue(ctx, [&](queue::RedisQueue& q, auto&) {
        const std::string& key = ctx.args.at(0);
        if (o.count("concurrency")) {
            q.set_concurrency_limit(queue_option(ctx), key, o["concurrency"].as<int>());
            ctx.out << "concurrency limit of " << key << ": " << o["concurrency"].as<int>() << '\n';
        }
        if (o.count("rate")) {
            std::string text = o["rate"].as<std::string>();
            auto slash = text.find('/');
            if (slash == std::string::npos || slash == 0)
                throw InputError("--rate must look like 25/1s (jobs per period)");
            int rate = 0;
            try {
                rate = std::stoi(text.substr(0, slash));
            } catch (const std::exception&) {
                throw InputError("--rate must look like 25/1s (jobs per period)");
            }
            auto period = parse_duration(text.substr(slash + 1));
            int burst = o.count("burst") ? o["burst"].as<int>() : std::max(1, rate);
            q.set_rate_limit(queue_option(ctx), key, rate, period, burst);
            ctx.out << "rate limit of " << key << ": " << text << " (burst " << burst << ")\n";
        }
        return 0;
    });
}

Command leaf(std::string name, std::string summary, int (*run)(Context&),
             std::function<void(po::options_description&)> opts = {}, std::string args = "",
             size_t min_args = 0, size_t max_args = 0) {
    Command c;
    c.name = std::move(name);
    c.summary = std::move(summary);
    c.run = run;
    c.add_options = std::move(opts);
    c.args_usage = std::move(args);
    c.min_args = min_args;
    c.max_args = max_args;
    return c;
}

}  // namespace

Command queue_commands() {
    Command group;
    group.name = "queue";
    group.summary = "Inspect and operate the job queues: stats, workers, dead jobs, pause.";
    Command dead;
    dead.name = "dead";
    dead.summary = "Jobs that failed their last attempt.";
    dead.children = {
        leaf("list", "List dead jobs, newest first.",
             dead_list,
             [](po::options_description& d) {
                 add_queue_option(d);
                 d.add_options()("limit", po::value<int>()->value_name("N"), "at most N (100)");
             }),
        leaf("show", "Show a dead job with its payload and error history.", dead_show,
             add_queue_option, "ID", 1, 1),
        leaf("retry", "Move a dead job (or --all) back to the queue with fresh attempts.",
             dead_retry,
             [](po::options_description& d) {
                 add_queue_option(d);
                 d.add_options()("all", "retry every dead job of the queue");
             },
             "[ID]", 0, 1),
        leaf("purge", "Delete every dead job of the queue.", dead_purge, add_queue_option),
    };
    group.children = {
        leaf("stats", "Per queue: ready, delayed, running, parked, dead, counters.", stats, {},
             "[QUEUE…]", 0, 64),
        leaf("workers", "Live worker processes and their heartbeats.", workers),
        dead,
        leaf("pause", "Stop workers from starting jobs of a queue (enqueues still accepted).",
             pause, {}, "QUEUE", 1, 1),
        leaf("resume", "Let workers start jobs of a paused queue again.", resume, {}, "QUEUE", 1,
             1),
        leaf("enqueue", "Enqueue one job (for operators and tests).", enqueue,
             [](po::options_description& d) {
                 add_queue_option(d);
                 d.add_options()("payload", po::value<std::string>()->value_name("JSON"),
                                 "job payload ({} by default)")(
                     "priority", po::value<int>()->value_name("0-9"), "higher runs first (5)")(
                     "delay", po::value<std::string>()->value_name("DURATION"),
                     "run no earlier than this from now")(
                     "unique", po::value<std::string>()->value_name("KEY"),
                     "return the pending job with this key instead of a duplicate")(
                     "concurrency-key", po::value<std::string>()->value_name("KEY"),
                     "counts against the key's concurrency limit")(
                     "rate-key", po::value<std::string>()->value_name("KEY"),
                     "counts against the key's rate limit")(
                     "attempts", po::value<int>()->value_name("N"), "deliveries in all (5)")(
                     "backoff", po::value<std::string>()->value_name("DURATION"),
                     "first retry delay, doubling after (1s)");
             },
             "TYPE", 1, 1),
        leaf("cancel", "Cancel a job that has not started.", cancel, add_queue_option, "ID", 1, 1),
        leaf("limit", "Set a per-key concurrency and/or rate limit (0 removes it).", limit,
             [](po::options_description& d) {
                 add_queue_option(d);
                 d.add_options()("concurrency", po::value<int>()->value_name("N"),
                                 "at most N jobs with KEY run at once")(
                     "rate", po::value<std::string>()->value_name("N/PERIOD"),
                     "at most N jobs with KEY start per PERIOD, e.g. 25/1s")(
                     "burst", po::value<int>()->value_name("N"), "bucket size (default N)");
             },
             "KEY", 1, 1),
    };
    return group;
}

}  // namespace artistsaid::cli
