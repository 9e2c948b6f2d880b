#include "engine/http/metrics_exporter.hpp"

#include <spdlog/spdlog.h>

#include <sstream>
#include <vector>

#include "engine/core/error.hpp"
#include "engine/queue/redis_queue.hpp"

namespace artistsaid::http {
namespace {

// Upper bounds of the step duration histogram, in seconds.
const std::vector<double> kBuckets = {0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800, 3600};

std::string number(double v) {
    std::ostringstream s;
    s.imbue(std::locale::classic());
    s << v;
    return s.str();
}

class Writer {
public:
    void family(const std::string& name, const std::string& type, const std::string& help) {
        out_ << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
    }
    void sample(const std::string& name,
                const std::vector<std::pair<std::string, std::string>>& labels,
                const std::string& value) {
        out_ << name;
        if (!labels.empty()) {
            out_ << '{';
            bool first = true;
            for (const auto& [k, v] : labels) {
                out_ << (first ? "" : ",") << k << "=\"" << escape_label(v) << '"';
                first = false;
            }
            out_ << '}';
        }
        out_ << ' ' << value << '\n';
    }
    void sample(const std::string& name,
                const std::vector<std::pair<std::string, std::string>>& labels, long long value) {
        sample(name, labels, std::to_string(value));
    }
    std::string text() const { return out_.str(); }

private:
    std::ostringstream out_;
};

}  // namespace

std::string escape_label(const std::string& value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out.push_back(c);
    }
    return out;
}

std::string MetricsExporter::render(pqxx::connection* pg, queue::RedisConnection* redis) const {
    Writer w;
    w.family("artistsaid_up", "gauge", "1 while the server answers.");
    w.sample("artistsaid_up", {}, 1);

    // Gather what the dependencies say first, so their up-ness is known.
    std::vector<queue::QueueStats> queues;
    std::vector<queue::JobDurations> durations;
    bool redis_up = redis != nullptr;
    if (redis_up) {
        try {
            queue::RedisQueue q(*redis, queue_prefix_);
            for (const auto& name : q.queues()) {
                queues.push_back(q.stats(name));
                for (auto& d : q.durations(name)) durations.push_back(std::move(d));
            }
        } catch (const Error& e) {
            spdlog::warn("metrics: queue statistics unavailable: {}", e.what());
            redis_up = false;
            queues.clear();
            durations.clear();
        }
    }
    struct Count {
        std::string a, b;
        long long n;
    };
    std::vector<Count> runs, events;
    std::vector<long long> buckets(kBuckets.size(), 0);
    long long step_count = 0;
    double step_sum = 0;
    bool pg_up = pg != nullptr;
    if (pg_up) {
        try {
            pqxx::read_transaction tx(*pg);
            for (const auto& r : tx.exec("SELECT workflow_name, status, count(*) FROM workflow_runs "
                                         "GROUP BY 1, 2 ORDER BY 1, 2"))
                runs.push_back({r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<long long>()});
            for (const auto& r : tx.exec(
                     "SELECT provider, CASE WHEN processed_at IS NULL THEN 'pending' "
                     "WHEN error IS NULL THEN 'processed' ELSE 'failed' END, count(*) "
                     "FROM webhook_events GROUP BY 1, 2 ORDER BY 1, 2"))
                events.push_back({r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<long long>()});
            std::string select = "SELECT count(*), coalesce(sum(d), 0)";
            for (double b : kBuckets) select += ", count(*) FILTER (WHERE d <= " + number(b) + ")";
            auto row = tx.exec1(select +
                                " FROM (SELECT extract(epoch FROM finished_at - started_at)::float8 "
                                "AS d FROM step_runs WHERE item_index = -1 AND finished_at IS NOT "
                                "NULL AND started_at IS NOT NULL) s");
            step_count = row[0].as<long long>();
            step_sum = row[1].as<double>();
            for (std::size_t i = 0; i < kBuckets.size(); ++i)
                buckets[i] = row[static_cast<int>(i) + 2].as<long long>();
        } catch (const std::exception& e) {
            spdlog::warn("metrics: PostgreSQL figures unavailable: {}", e.what());
            pg_up = false;
            runs.clear();
            events.clear();
        }
    }

    w.family("artistsaid_dependency_up", "gauge",
             "1 if the dependency answered this scrape, else 0.");
    w.sample("artistsaid_dependency_up", {{"dependency", "postgresql"}}, pg_up ? 1 : 0);
    w.sample("artistsaid_dependency_up", {{"dependency", "redis"}}, redis_up ? 1 : 0);

    w.family("artistsaid_http_connections", "gauge", "Open HTTP and WebSocket connections.");
    w.sample("artistsaid_http_connections", {}, open_connections_ ? open_connections_() : 0);
    w.family("artistsaid_http_responses_total", "counter",
             "HTTP responses written by this process, by route and status code.");
    for (const auto& [key, n] : metrics_.responses())
        w.sample("artistsaid_http_responses_total",
                 {{"route", key.first}, {"code", std::to_string(key.second)}}, n);

    if (redis_up) {
        w.family("artistsaid_queue_jobs", "gauge", "Jobs in each queue by state.");
        for (const auto& s : queues)
            for (const auto& [state, n] : std::vector<std::pair<std::string, long long>>{
                     {"ready", s.ready}, {"delayed", s.delayed}, {"running", s.running},
                     {"dead", s.dead}, {"parked", s.parked}})
                w.sample("artistsaid_queue_jobs", {{"queue", s.queue}, {"state", state}}, n);
        const std::vector<std::pair<std::string, long long queue::QueueStats::*>> totals = {
            {"enqueued", &queue::QueueStats::enqueued},
            {"processed", &queue::QueueStats::processed},
            {"failed", &queue::QueueStats::failed},
            {"retried", &queue::QueueStats::retried}};
        for (const auto& [what, member] : totals) {
            const std::string name = "artistsaid_queue_jobs_" + what + "_total";
            w.family(name, "counter", "Jobs " + what + " in each queue since it was created.");
            for (const auto& s : queues) w.sample(name, {{"queue", s.queue}}, s.*member);
        }
        // Recorded by the workers with each ack (processed) and failed attempt (failed).
        w.family("artistsaid_job_duration_seconds", "histogram",
                 "How long job handlers ran, by queue and outcome (processed, failed).");
        const auto& bounds = queue::JobDurationHistogram::bounds();
        for (const auto& d : durations) {
            long long cumulative = 0;
            for (std::size_t i = 0; i < bounds.size(); ++i) {
                cumulative += d.counts[i];
                w.sample("artistsaid_job_duration_seconds_bucket",
                         {{"queue", d.queue}, {"outcome", d.outcome},
                          {"le", number(static_cast<double>(bounds[i].count()) / 1e6)}},
                         cumulative);
            }
            w.sample("artistsaid_job_duration_seconds_bucket",
                     {{"queue", d.queue}, {"outcome", d.outcome}, {"le", "+Inf"}}, d.count());
            w.sample("artistsaid_job_duration_seconds_sum",
                     {{"queue", d.queue}, {"outcome", d.outcome}},
                     number(static_cast<double>(d.sum_us) / 1e6));
            w.sample("artistsaid_job_duration_seconds_count",
                     {{"queue", d.queue}, {"outcome", d.outcome}}, d.count());
        }
    }
    if (pg_up) {
        w.family("artistsaid_runs", "gauge", "Workflow runs by workflow and status.");
        for (const auto& r : runs) w.sample("artistsaid_runs", {{"workflow", r.a}, {"status", r.b}}, r.n);
        w.family("artistsaid_step_duration_seconds", "histogram",
                 "Duration of finished workflow steps (fan-out items excluded).");
        for (std::size_t i = 0; i < kBuckets.size(); ++i)
            w.sample("artistsaid_step_duration_seconds_bucket", {{"le", number(kBuckets[i])}},
                     buckets[i]);
        w.sample("artistsaid_step_duration_seconds_bucket", {{"le", "+Inf"}}, step_count);
        w.sample("artistsaid_step_duration_seconds_sum", {}, number(step_sum));
        w.sample("artistsaid_step_duration_seconds_count", {}, step_count);
        w.family("artistsaid_webhook_events", "gauge",
                 "Stored webhook events by provider and outcome (processed, pending, failed).");
        for (const auto& e : events)
            w.sample("artistsaid_webhook_events", {{"provider", e.a}, {"outcome", e.b}}, e.n);
    }
    w.family("artistsaid_webhook_requests_total", "counter",
             "Webhook deliveries received by this process, by provider and outcome.");
    for (const auto& [key, n] : metrics_.webhooks())
        w.sample("artistsaid_webhook_requests_total", {{"provider", key.first}, {"outcome", key.second}},
                 n);
    return w.text();
}

}  // namespace artistsaid::http
