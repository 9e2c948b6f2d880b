#include "engine/queue/redis_queue.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <nlohmann/json.hpp>

#include "engine/core/error.hpp"
#include "engine/core/id.hpp"
#include "engine/queue/queue_scripts.hpp"

namespace artistsaid::queue {
namespace {

using detail::scripts;

int64_t to_ms(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

int to_int(ReplyView v) { return static_cast<int>(v.integer()); }

std::map<std::string, std::vector<const LeasedJob*>> by_queue(const std::vector<LeasedJob>& jobs) {
    std::map<std::string, std::vector<const LeasedJob*>> groups;
    for (const auto& j : jobs) groups[j.queue].push_back(&j);
    return groups;
}

std::vector<std::string> id_attempt_pairs(const std::vector<const LeasedJob*>& jobs) {
    std::vector<std::string> args;
    args.reserve(jobs.size() * 2);
    for (const auto* j : jobs) {
        args.push_back(j->id);
        args.push_back(std::to_string(j->attempt));
    }
    return args;
}

// The histogram arguments of a job's ack or fail: its duration bucket and microseconds,
// or two empty strings when the handler did not run.
std::pair<std::string, std::string> duration_args(const LeasedJob& job) {
    if (job.run_us < 0) return {std::string(), std::string()};
    auto us = std::chrono::microseconds(job.run_us);
    return {std::to_string(JobDurationHistogram::bucket_of(us)), std::to_string(job.run_us)};
}

void check_key(const std::string& key, std::string_view what) {
    if (key.size() > 256) throw InputError(std::string(what) + " is longer than 256 bytes");
}

}  // namespace

namespace detail {

std::string pack_job(const std::string& type, const RetryPolicy& retry, const std::string& payload) {
    std::string out;
    out.reserve(type.size() + payload.size() + 32);
    out += type;
    out += kJobFieldSeparator;
    out += std::to_string(retry.max_attempts);
    out += ':';
    out += std::to_string(retry.base_delay.count());
    out += ':';
    out += std::to_string(retry.max_delay.count());
    out += kJobFieldSeparator;
    out += payload;
    return out;
}

void unpack_job(std::string_view packed, std::string& type, RetryPolicy& retry,
                std::string& payload) {
    auto first = packed.find(kJobFieldSeparator);
    auto second = first == std::string_view::npos ? first : packed.find(kJobFieldSeparator, first + 1);
    if (second == std::string_view::npos)
        throw Error(ErrorCode::kInternal, "malformed job record in Redis");
    type.assign(packed.substr(0, first));
    payload.assign(packed.substr(second + 1));
    std::string_view policy = packed.substr(first + 1, second - first - 1);
    long long parts[3] = {retry.max_attempts, retry.base_delay.count(), retry.max_delay.count()};
    size_t start = 0;
    for (long long& part : parts) {
        size_t end = policy.find(':', start);
        std::string_view field =
            policy.substr(start, end == std::string_view::npos ? end : end - start);
        std::from_chars(field.data(), field.data() + field.size(), part);
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    retry.max_attempts = static_cast<int>(parts[0]);
    retry.base_delay = std::chrono::milliseconds(parts[1]);
    retry.max_delay = std::chrono::milliseconds(parts[2]);
}

}  // namespace detail

void check_queue_name(const std::string& queue) {
    bool ok = !queue.empty() && queue.size() <= 64 &&
              std::all_of(queue.begin(), queue.end(), [](char c) {
                  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
              });
    if (!ok)
        throw InputError("invalid queue name '" + queue.substr(0, 80) +
                         "': use 1-64 characters of letters, digits, '_', '-', '.'");
}

RedisQueue::RedisQueue(RedisConnection& connection, std::string prefix, size_t max_payload_bytes)
    : conn_(connection), prefix_(std::move(prefix)), max_payload_(max_payload_bytes) {
    if (prefix_.empty() || prefix_.find_first_of("{}") != std::string::npos)
        throw InputError("the queue prefix must be non-empty and must not contain '{' or '}'");
}

std::string RedisQueue::base_key(const std::string& queue) const {
    return "{" + prefix_ + ":" + queue + "}";
}

EnqueueResult RedisQueue::enqueue(const std::string& queue, const NewJob& job) {
    return enqueue_batch(queue, {job}).at(0);
}

std::vector<EnqueueResult> RedisQueue::enqueue_batch(const std::string& queue,
                                                     const std::vector<NewJob>& jobs) {
    check_queue_name(queue);
    if (jobs.empty()) return {};
    // Validate everything before sending anything: bad input changes nothing.
    for (size_t i = 0; i < jobs.size(); ++i) {
        const NewJob& j = jobs[i];
        std::string which = jobs.size() == 1 ? "job" : "job " + std::to_string(i + 1);
        if (j.type.empty() || j.type.size() > 128 ||
            std::any_of(j.type.begin(), j.type.end(),
                        [](char c) { return static_cast<unsigned char>(c) < 0x20; }))
            throw InputError(which + ": the job type must be 1-128 printable characters");
        if (j.payload.size() > max_payload_)
            throw InputError(which + " (" + j.type + "): payload of " +
                             std::to_string(j.payload.size()) + " bytes exceeds the limit of " +
                             std::to_string(max_payload_) + " bytes");
        const JobOptions& o = j.options;
        if (o.priority < priority::kMin || o.priority > priority::kMax)
            throw InputError(which + ": priority must be 0..9 (higher runs first)");
        if (o.retry.max_attempts < 1 || o.retry.max_attempts > 1000)
            throw InputError(which + ": max attempts must be 1..1000");
        if (o.retry.base_delay.count() < 0 || o.retry.max_delay.count() < 0)
            throw InputError(which + ": retry delays must not be negative");
        check_key(o.unique_key, "the unique key");
        check_key(o.concurrency_key, "the concurrency key");
        check_key(o.rate_key, "the rate key");
    }

    std::vector<EnqueueResult> out(jobs.size());
    std::vector<std::vector<std::string>> chunks;
    for (size_t first = 0; first < jobs.size(); first += kEnqueueChunk) {
        size_t last = std::min(jobs.size(), first + kEnqueueChunk);
        std::vector<std::string> args;
        args.reserve(1 + (last - first) * 3);
        args.push_back(std::to_string(last - first));
        for (size_t i = first; i < last; ++i) {
            const NewJob& j = jobs[i];
            const JobOptions& o = j.options;
            out[i].id = j.id.empty() ? new_id() : j.id;
            bool simple = !o.run_at && o.unique_key.empty() && o.concurrency_key.empty() &&
                          o.rate_key.empty();
            std::string priority(1, static_cast<char>('0' + o.priority));
            args.push_back(simple ? priority : "x");
            args.push_back(out[i].id);
            args.push_back(detail::pack_job(j.type, o.retry, j.payload));
            if (!simple) {
                args.push_back(priority);
                args.push_back(o.run_at ? std::to_string(to_ms(*o.run_at)) : "0");
                args.push_back(o.unique_key);
                args.push_back(o.concurrency_key);
                args.push_back(o.rate_key);
            }
        }
        chunks.push_back(std::move(args));
    }
    // Register the queue name (outside the script: this key is not under the queue's
    // tag), once per RedisQueue.
    if (registered_.insert(queue).second)
        check_reply(conn_.command({"SADD", prefix_ + ":queues", queue}), "registering " + queue);

    auto replies = scripts().enqueue.run_pipelined(conn_, {base_key(queue)}, chunks);
    for (size_t c = 0; c < replies.size(); ++c) {
        check_reply(replies[c], "enqueueing into " + queue);
        // The reply lists only the duplicates: index within the chunk, existing id.
        auto v = replies[c].view();
        for (size_t i = 0; i + 1 < v.size(); i += 2) {
            size_t index = c * kEnqueueChunk + static_cast<size_t>(v[i].integer());
            out.at(index) = EnqueueResult{v[i + 1].string(), true};
        }
    }
    return out;
}

FetchResult RedisQueue::fetch(const std::string& queue, int max, std::chrono::milliseconds lease,
                              const std::string& worker_id) {
    RedisReply reply = scripts().fetch.run(
        conn_, {base_key(queue)},
        {std::to_string(std::max(0, max)), std::to_string(lease.count()), worker_id});
    check_reply(reply, "fetching from " + queue);
    FetchResult result;
    auto v = reply.view();
    auto flat = v[0];
    constexpr size_t kFields = 5;
    result.jobs.reserve(flat.size() / kFields);
    for (size_t i = 0; i + kFields <= flat.size(); i += kFields) {
        LeasedJob j;
        j.queue = queue;
        j.id = flat[i].string();
        detail::unpack_job(flat[i + 1].str(), j.type, j.retry, j.payload);
        j.attempt = to_int(flat[i + 2]);
        j.enqueued_at_ms = flat[i + 3].integer();
        j.errors_json = flat[i + 4].string();
        result.jobs.push_back(std::move(j));
    }
    long long wait = v[1].integer();
    if (wait >= 0) result.next_due = std::chrono::milliseconds(wait);
    return result;
}

bool RedisQueue::wait_for_work(const std::vector<std::string>& queues,
                               std::chrono::milliseconds timeout) {
    if (timeout.count() <= 0) return false;
    std::vector<std::string> argv{"BLPOP"};
    for (const auto& q : queues) argv.push_back(base_key(q) + ":wake");
    // BLPOP takes seconds as a decimal; milliseconds are honoured since Redis 6.
    long long ms = std::max<long long>(1, timeout.count());
    argv.push_back(std::to_string(ms / 1000) + "." + std::to_string(1000 + ms % 1000).substr(1));
    RedisReply reply = conn_.blocking_command(argv, timeout);
    check_reply(reply, "waiting for work");
    return !reply.view().is_nil();
}

int RedisQueue::ack(const std::vector<LeasedJob>& jobs) {
    int done = 0;
    for (const auto& [queue, group] : by_queue(jobs)) {
        std::vector<std::string> args;
        args.reserve(group.size() * 4);
        for (const auto* j : group) {
            args.push_back(j->id);
            args.push_back(std::to_string(j->attempt));
            auto [bucket, us] = duration_args(*j);
            args.push_back(std::move(bucket));
            args.push_back(std::move(us));
        }
        RedisReply reply = scripts().ack.run(conn_, {base_key(queue)}, args);
        check_reply(reply, "acknowledging jobs of " + queue);
        done += to_int(reply.view());
    }
    return done;
}

FailOutcome RedisQueue::fail(const LeasedJob& job, const std::string& error, std::string_view kind,
                             std::optional<std::chrono::milliseconds> retry_delay) {
    auto now = std::chrono::system_clock::now();
    nlohmann::json entry = {{"attempt", job.attempt},
                            {"at", to_ms(now)},
                            {"error", error.substr(0, 4096)},
                            {"kind", std::string(kind)}};
    auto [bucket, us] = duration_args(job);
    RedisReply reply = scripts().fail.run(
        conn_, {base_key(job.queue)},
        {job.id, std::to_string(job.attempt),
         entry.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
         std::to_string(retry_delay ? retry_delay->count() : -1), bucket, us});
    check_reply(reply, "failing job " + job.id);
    auto outcome = reply.view().str();
    if (outcome == "retry") return FailOutcome::kRetry;
    if (outcome == "dead") return FailOutcome::kDead;
    return FailOutcome::kStale;
}

std::vector<std::string> RedisQueue::renew(const std::vector<LeasedJob>& jobs,
                                           std::chrono::milliseconds lease) {
    std::vector<std::string> lost;
    for (const auto& [queue, group] : by_queue(jobs)) {
        auto args = id_attempt_pairs(group);
        args.insert(args.begin(), std::to_string(lease.count()));
        RedisReply reply = scripts().renew.run(conn_, {base_key(queue)}, args);
        check_reply(reply, "renewing leases in " + queue);
        auto v = reply.view();
        for (size_t i = 0; i < v.size(); ++i) lost.push_back(v[i].string());
    }
    return lost;
}

int RedisQueue::release(const std::vector<LeasedJob>& jobs) {
    int n = 0;
    for (const auto& [queue, group] : by_queue(jobs)) {
        RedisReply reply = scripts().release.run(conn_, {base_key(queue)}, id_attempt_pairs(group));
        check_reply(reply, "giving jobs back to " + queue);
        n += to_int(reply.view());
    }
    return n;
}

CancelOutcome RedisQueue::cancel(const std::string& queue, const std::string& id) {
    check_queue_name(queue);
    RedisReply reply = scripts().cancel.run(conn_, {base_key(queue)}, {id});
    check_reply(reply, "cancelling job " + id);
    auto s = reply.view().str();
    if (s == "cancelled") return CancelOutcome::kCancelled;
    if (s == "running") return CancelOutcome::kRunning;
    if (s == "dead") return CancelOutcome::kDead;
    return CancelOutcome::kNotFound;
}

QueueStats RedisQueue::stats(const std::string& queue) {
    check_queue_name(queue);
    RedisReply reply = scripts().stats.run(conn_, {base_key(queue)}, {});
    check_reply(reply, "reading stats of " + queue);
    auto v = reply.view();
    QueueStats s;
    s.queue = queue;
    s.ready = v[0].integer();
    s.delayed = v[1].integer();
    s.running = v[2].integer();
    s.dead = v[3].integer();
    s.parked = v[4].integer();
    s.enqueued = v[5].integer();
    s.processed = v[6].integer();
    s.failed = v[7].integer();
    s.retried = v[8].integer();
    s.cancelled = v[9].integer();
    s.paused = v[10].integer() == 1;
    return s;
}

std::vector<JobDurations> RedisQueue::durations(const std::string& queue) {
    check_queue_name(queue);
    RedisReply reply = conn_.command({"HGETALL", base_key(queue) + ":durations"});
    check_reply(reply, "reading job durations of " + queue);
    std::map<std::string, long long> fields;
    auto v = reply.view();
    for (size_t i = 0; i + 1 < v.size(); i += 2)
        fields[v[i].string()] = std::stoll(v[i + 1].string());
    std::vector<JobDurations> out;
    const std::size_t buckets = JobDurationHistogram::bounds().size() + 1;
    for (const char* outcome : {"processed", "failed"}) {
        JobDurations d{queue, outcome, std::vector<long long>(buckets, 0), 0};
        for (std::size_t b = 0; b < buckets; ++b) {
            auto found = fields.find(JobDurationHistogram::field(outcome, b));
            if (found != fields.end()) d.counts[b] = found->second;
        }
        if (auto sum = fields.find(JobDurationHistogram::sum_field(outcome)); sum != fields.end())
            d.sum_us = sum->second;
        out.push_back(std::move(d));
    }
    return out;
}

std::vector<std::string> RedisQueue::queues() {
    RedisReply reply = conn_.command({"SMEMBERS", prefix_ + ":queues"});
    check_reply(reply, "listing queues");
    std::vector<std::string> out;
    auto v = reply.view();
    for (size_t i = 0; i < v.size(); ++i) out.push_back(v[i].string());
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<DeadJob> RedisQueue::dead_list(const std::string& queue, int limit) {
    check_queue_name(queue);
    RedisReply ids = conn_.command({"ZREVRANGE", base_key(queue) + ":dead", "0",
                                    std::to_string(std::max(1, limit) - 1)});
    check_reply(ids, "listing dead jobs of " + queue);
    std::vector<DeadJob> out;
    auto v = ids.view();
    for (size_t i = 0; i < v.size(); ++i) {
        if (auto job = dead_show(queue, v[i].string())) out.push_back(std::move(*job));
    }
    return out;
}

std::optional<DeadJob> RedisQueue::dead_show(const std::string& queue, const std::string& id) {
    check_queue_name(queue);
    RedisReply reply = conn_.command(
        {"HMGET", base_key(queue) + ":job:" + id, "st", "j", "a", "da", "ea", "e"});
    check_reply(reply, "reading dead job " + id);
    auto v = reply.view();
    if (v[0].is_nil() || v[0].str() != "dead") return std::nullopt;
    DeadJob d;
    d.id = id;
    RetryPolicy retry;
    detail::unpack_job(v[1].str(), d.type, retry, d.payload);
    d.attempts = v[2].is_nil() ? 0 : static_cast<int>(v[2].integer());
    d.died_at_ms = v[3].is_nil() ? 0 : v[3].integer();
    d.enqueued_at_ms = v[4].is_nil() ? 0 : v[4].integer();
    d.errors_json = v[5].is_nil() ? "[]" : v[5].string();
    return d;
}

bool RedisQueue::dead_retry(const std::string& queue, const std::string& id) {
    check_queue_name(queue);
    RedisReply reply = scripts().dead_retry.run(conn_, {base_key(queue)}, {"1", id});
    check_reply(reply, "retrying dead job " + id);
    return reply.view().integer() == 1;
}

long long RedisQueue::dead_retry_all(const std::string& queue) {
    check_queue_name(queue);
    long long total = 0;
    for (;;) {  // in chunks, so no single script blocks Redis for long
        RedisReply reply = scripts().dead_retry.run(conn_, {base_key(queue)}, {"1000"});
        check_reply(reply, "retrying dead jobs of " + queue);
        long long n = reply.view().integer();
        total += n;
        if (n == 0) return total;
    }
}

long long RedisQueue::dead_purge(const std::string& queue) {
    check_queue_name(queue);
    long long total = 0;
    for (;;) {
        RedisReply reply = scripts().dead_purge.run(conn_, {base_key(queue)}, {"1000"});
        check_reply(reply, "purging dead jobs of " + queue);
        long long n = reply.view().integer();
        total += n;
        if (n == 0) return total;
    }
}

void RedisQueue::pause(const std::string& queue) {
    check_queue_name(queue);
    check_reply(conn_.command({"SET", base_key(queue) + ":paused", "1"}), "pausing " + queue);
}

void RedisQueue::resume(const std::string& queue) {
    check_queue_name(queue);
    std::string base = base_key(queue);
    check_reply(conn_.command({"DEL", base + ":paused"}), "resuming " + queue);
    // Wake idle fetchers so they see the backlog at once.
    check_reply(conn_.command({"LPUSH", base + ":wake", "1", "1", "1", "1"}), "resuming " + queue);
}

void RedisQueue::set_concurrency_limit(const std::string& queue, const std::string& key,
                                       int limit) {
    check_queue_name(queue);
    check_key(key, "the concurrency key");
    std::string base = base_key(queue);
    if (limit <= 0)
        check_reply(conn_.command({"HDEL", base + ":climits", key}), "removing a limit");
    else
        check_reply(conn_.command({"HSET", base + ":climits", key, std::to_string(limit)}),
                    "setting a concurrency limit");
}

void RedisQueue::set_rate_limit(const std::string& queue, const std::string& key, int rate,
                                std::chrono::milliseconds period, int burst) {
    check_queue_name(queue);
    check_key(key, "the rate key");
    std::string base = base_key(queue);
    if (rate <= 0) {
        check_reply(conn_.command({"HDEL", base + ":rlimits", key}), "removing a rate limit");
        return;
    }
    if (period.count() <= 0) throw InputError("the rate limit period must be positive");
    if (burst <= 0) burst = 1;
    check_reply(conn_.command({"HSET", base + ":rlimits", key,
                               std::to_string(rate) + ":" + std::to_string(period.count()) + ":" +
                                   std::to_string(burst)}),
                "setting a rate limit");
}

}  // namespace artistsaid::queue
