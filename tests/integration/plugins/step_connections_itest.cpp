// The step plugins' connections in a worker process (cli/step_plugins.cpp) against a real
// PostgreSQL: the production step registry and its connection factory, configured as
// `artistsaid worker` configures them. Consecutive step calls reuse one backend; a connection
// given back inside an open or failed transaction, or whose backend the server terminated, is
// not handed out again and the next step still works; concurrent calls never share a
// connection and the idle connections stay within worker.concurrency.
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cli/step_plugins.hpp"
#include "engine/core/config.hpp"
#include "engine/store/migrator.hpp"
#include "tests/support/temp_database.hpp"
#include "tests/support/test_env.hpp"

using namespace artistsaid;
using namespace std::chrono_literals;

namespace {

struct StepDatabase {
    test::TempDatabase db;
    pqxx::connection admin{db.url()};
    std::atomic<int> calls{0};

    explicit StepDatabase(int concurrency) {
        store::Migrator(db.url(), std::filesystem::path(test::source_dir()) / "migrations").up();
        ConfigInputs in;
        in.env = {{"ARTISTSAID_DATABASE_URL", db.url()},
                  {"ARTISTSAID_WORKER_CONCURRENCY", std::to_string(concurrency)},
                  {"ARTISTSAID_STATEMENT_TIMEOUT", "30s"}};
        cli::configure_step_plugins(Config::load(in));
    }

    // One execution of a real step that works in the database (billing.apply_late_fees:
    // temp tables ON COMMIT DROP, a billing_runs row), under a key of its own.
    nlohmann::json late_fees_step() {
        runtime::StepCall call;
        call.run_id = "00000000-0000-0000-0000-000000000000";
        call.step_id = "late_fees";
        call.idempotency_key = "pool-test:" + std::to_string(++calls);
        call.with = {{"as_of", "2026-01-15"},
                     {"late_fee", {{"kind", "percent"}, {"percent", "5"}, {"after_days", 7}}}};
        call.deadline = std::chrono::system_clock::now() + 60s;
        auto* step = cli::step_registry().find("billing.apply_late_fees");
        REQUIRE(step != nullptr);
        auto result = step->run(call);
        REQUIRE(result.kind == runtime::StepResult::Kind::kSucceeded);
        return result.outputs;
    }

    long long billing_runs() {
        return pqxx::nontransaction(admin).exec1("SELECT count(*) FROM billing_runs")[0].as<long long>();
    }

    // The backends of the steps' pool in this database (connected as 'artistsaid').
    std::set<int> step_backends() {
        std::set<int> out;
        for (const auto& r : pqxx::nontransaction(admin).exec(
                 "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND "
                 "application_name = 'artistsaid' AND pid <> pg_backend_pid()"))
            out.insert(r[0].as<int>());
        return out;
    }

    // Waits (at most 5 s) until a closed connection's backend has exited.
    bool gone(int pid) {
        for (int i = 0; i < 100; ++i) {
            if (step_backends().count(pid) == 0) return true;
            pqxx::nontransaction(admin).exec("SELECT pg_sleep(0.05)");
        }
        return false;
    }
};

int backend_of(pqxx::connection& conn) {
    return pqxx::nontransaction(conn).exec1("SELECT pg_backend_pid()")[0].as<int>();
}

}  // namespace

TEST_CASE("Plugins.StepConnections.ConsecutiveStepCallsReuseOneBackend") {
    StepDatabase s(4);
    int pid = 0;
    {
        auto conn = cli::connect_step_database();
        pid = backend_of(*conn);
        CHECK(pqxx::nontransaction(*conn).exec1("SHOW statement_timeout")[0].as<std::string>() ==
              "30s");  // the configured statement timeout still applies
    }
    s.late_fees_step();
    s.late_fees_step();
    CHECK(s.billing_runs() == 2);  // both steps did their work...
    CHECK(s.step_backends() == std::set<int>{pid});  // ...on the one backend, given back
    auto conn = cli::connect_step_database();
    CHECK(backend_of(*conn) == pid);
}

TEST_CASE("Plugins.StepConnections.ABrokenOrUnfinishedConnectionIsNotHandedOutAgain") {
    StepDatabase s(4);
    enum class Misuse { kOpenTransaction, kFailedTransaction, kTerminated };
    for (const auto misuse : {Misuse::kOpenTransaction, Misuse::kFailedTransaction, Misuse::kTerminated}) {
        CAPTURE(static_cast<int>(misuse));
        int pid = 0;
        {
            auto conn = cli::connect_step_database();
            pid = backend_of(*conn);
            pqxx::nontransaction tx(*conn);
            if (misuse == Misuse::kOpenTransaction) {
                tx.exec0("BEGIN");
                tx.exec0("LOCK TABLE billing_runs IN ACCESS EXCLUSIVE MODE");
            } else if (misuse == Misuse::kFailedTransaction) {
                tx.exec0("BEGIN");
                CHECK_THROWS(tx.exec("SELECT 1 / 0"));
            } else {
                pqxx::nontransaction(s.admin).exec1("SELECT pg_terminate_backend(" +
                                                    std::to_string(pid) + ")");
                REQUIRE(s.gone(pid));
            }
        }  // given back
        CHECK(s.gone(pid));  // closed (an open transaction with it: its lock is released)
        const auto before = s.billing_runs();
        s.late_fees_step();  // the next step works (it would wait on the lock otherwise)
        CHECK(s.billing_runs() == before + 1);
        auto conn = cli::connect_step_database();
        CHECK(backend_of(*conn) != pid);
    }
}

TEST_CASE("Plugins.StepConnections.ConcurrentStepCallsNeverShareAConnection") {
    constexpr int kConcurrency = 4;  // worker.concurrency: the most idle connections kept
    StepDatabase s(kConcurrency);
    constexpr int kThreads = 8;
    constexpr int kCalls = 50;  // per thread; every 10th call is a real step
    std::mutex mutex;
    std::set<int> in_use;  // backends lent right now
    std::set<int> seen;
    std::atomic<int> shared{0};
    std::atomic<int> failed{0};
    std::atomic<int> steps{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < kCalls; ++i) {  // bounded: kCalls calls, each a few statements
                try {
                    if (i % 10 == 9) {
                        s.late_fees_step();
                        ++steps;
                        continue;
                    }
                    auto conn = cli::connect_step_database();
                    const int pid = backend_of(*conn);
                    {
                        std::lock_guard lock(mutex);
                        if (!in_use.insert(pid).second) ++shared;
                        seen.insert(pid);
                    }
                    {
                        pqxx::work tx(*conn);
                        tx.exec("SELECT count(*) FROM billing_runs");
                        tx.commit();
                    }
                    std::lock_guard lock(mutex);
                    in_use.erase(pid);
                } catch (const std::exception&) {
                    ++failed;
                }
            }
        });
    }
    for (auto& t : threads) t.join();
    CHECK(failed == 0);
    CHECK(shared == 0);
    CHECK(steps == kThreads * kCalls / 10);
    CHECK(s.billing_runs() == kThreads * kCalls / 10);
    CHECK(seen.size() >= 2);  // the calls did overlap
    // Everything was given back: at most worker.concurrency stay open (the rest were closed;
    // their backends exit shortly after).
    bool within = false;
    for (int i = 0; i < 100 && !within; ++i) {
        within = s.step_backends().size() <= static_cast<std::size_t>(kConcurrency);
        if (!within) pqxx::nontransaction(s.admin).exec("SELECT pg_sleep(0.05)");
    }
    CHECK(within);
    CHECK(!s.step_backends().empty());
    // Every kept connection is handed out again, each to one holder.
    std::vector<store::ConnectionPool::Lease> held;
    std::set<int> again;
    for (int i = 0; i < kConcurrency; ++i) {
        held.push_back(cli::connect_step_database());
        again.insert(backend_of(*held.back()));
    }
    CHECK(again.size() == static_cast<std::size_t>(kConcurrency));
}
