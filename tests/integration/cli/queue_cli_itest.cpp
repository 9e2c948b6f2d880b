// `artistsaid queue …` as an operator uses it, against the test Redis.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "tests/support/cli_runner.hpp"
#include "tests/support/redis_guard.hpp"
#include "tests/support/test_env.hpp"

using namespace artistsaid;

namespace {

struct QueueCli {
    test::RedisPrefixGuard guard;
    test::CliOptions opts;
    QueueCli() {
        opts.env = {{"ARTISTSAID_REDIS_URL", test::redis_url()},
                    {"ARTISTSAID_QUEUE_PREFIX", guard.prefix()}};
    }
    test::CliResult run(std::vector<std::string> args) const { return test::run_cli(args, opts); }
    nlohmann::json stats(const std::string& queue) const {
        auto r = run({"queue", "stats", queue, "--json"});
        REQUIRE(r.exit_code == 0);
        return nlohmann::json::parse(r.out).at(0);
    }
};

}  // namespace

TEST_CASE("Cli.Queue.EnqueueStatsPauseCancelLimit") {
    QueueCli q;
    auto one = q.run({"queue", "enqueue", "diag.noop", "--payload", R"({"a":1})", "--queue", "billing",
                      "--unique", "invoice:7", "--json"});
    REQUIRE(one.exit_code == 0);
    auto first = nlohmann::json::parse(one.out);
    auto dup = nlohmann::json::parse(q.run({"queue", "enqueue", "diag.noop", "--queue", "billing",
                                            "--unique", "invoice:7", "--json"})
                                         .out);
    CHECK(dup["duplicate"] == true);
    CHECK(dup["id"] == first["id"]);
    q.run({"queue", "enqueue", "diag.noop", "--queue", "billing", "--delay", "1h"});
    auto s = q.stats("billing");
    CHECK(s["ready"] == 1);
    CHECK(s["delayed"] == 1);

    CHECK(q.run({"queue", "pause", "billing"}).exit_code == 0);
    CHECK(q.stats("billing")["paused"] == true);
    CHECK(q.run({"queue", "resume", "billing"}).exit_code == 0);
    CHECK(q.stats("billing")["paused"] == false);

    CHECK(q.run({"queue", "cancel", first["id"], "--queue", "billing"}).exit_code == 0);
    auto again = q.run({"queue", "cancel", first["id"], "--queue", "billing"});
    CHECK(again.exit_code == 2);
    CHECK(again.err.find("no pending job") != std::string::npos);

    CHECK(q.run({"queue", "limit", "tenant:x", "--concurrency", "3", "--rate", "25/1s"}).exit_code == 0);
    CHECK(q.run({"queue", "limit", "tenant:x", "--rate", "lots"}).exit_code == 2);
    CHECK(q.run({"queue", "limit", "tenant:x"}).exit_code == 2);

    auto workers = q.run({"queue", "workers"});
    CHECK(workers.exit_code == 0);
    CHECK(workers.out.find("no live workers") != std::string::npos);
}

TEST_CASE("Cli.Queue.BadInputIsRefusedWithExit2") {
    QueueCli q;
    auto bad_json = q.run({"queue", "enqueue", "diag.noop", "--payload", "{not json"});
    CHECK(bad_json.exit_code == 2);
    CHECK(bad_json.err.find("not valid JSON") != std::string::npos);
    auto bad_queue = q.run({"queue", "enqueue", "diag.noop", "--queue", "no spaces"});
    CHECK(bad_queue.exit_code == 2);
    auto bad_priority = q.run({"queue", "enqueue", "diag.noop", "--priority", "12"});
    CHECK(bad_priority.exit_code == 2);
    auto small_limit = q.opts;
    small_limit.env["ARTISTSAID_QUEUE_MAX_PAYLOAD_BYTES"] = "1024";
    auto big = test::run_cli({"queue", "enqueue", "diag.noop", "--payload",
                              "\"" + std::string(2000, 'x') + "\""},
                             small_limit);
    CHECK(big.exit_code == 2);
    CHECK(big.err.find("exceeds the limit") != std::string::npos);
    auto stats = q.run({"queue", "stats", "--json"});
    CHECK(nlohmann::json::parse(stats.out).empty());  // nothing was enqueued anywhere
}

TEST_CASE("Cli.Queue.DeadListShowRetryPurge") {
    QueueCli q;
    // A job that fails its only attempt, run by a real worker for three seconds.
    q.run({"queue", "enqueue", "diag.fail", "--payload", R"({"message":"card declined"})",
           "--attempts", "1"});
    test::CliOptions worker_opts = q.opts;
    worker_opts.timeout = std::chrono::seconds(3);
    test::run_cli({"worker", "--concurrency", "1"}, worker_opts);  // killed at the timeout
    auto list = q.run({"queue", "dead", "list", "--json"});
    REQUIRE(list.exit_code == 0);
    auto dead = nlohmann::json::parse(list.out);
    REQUIRE(dead.size() == 1);
    CHECK(dead[0]["errors"][0]["error"] == "card declined");
    std::string id = dead[0]["id"];
    auto show = q.run({"queue", "dead", "show", id});
    CHECK(show.exit_code == 0);
    CHECK(show.out.find("card declined") != std::string::npos);
    CHECK(q.run({"queue", "dead", "show", "nope"}).exit_code == 2);
    CHECK(q.run({"queue", "dead", "retry"}).exit_code == 2);  // an ID or --all
    CHECK(q.run({"queue", "dead", "retry", id}).exit_code == 0);
    CHECK(q.stats("default")["ready"] == 1);
    CHECK(q.stats("default")["dead"] == 0);
}
