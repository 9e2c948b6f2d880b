// The batch charge path under a real crash: an `artistsaid worker` process charging a batch
// through the sandbox is SIGKILLed after the gateway was called and before the outcome
// transaction committed; the run is then finished by another worker (the redelivered batch
// looks every unknown payment up) and `payments reconcile`. No invoice is charged twice, each
// is settled exactly once, and `ledger verify` passes.
//
// Getting to the crash point without timing luck and without a test hook in the product: the
// test holds a SHARE lock on the ledger tables (no insert can commit while it is held; nothing
// before the outcome transaction writes the ledger), starts the worker, and waits until (a) the
// sandbox has recorded every charge of the batch (the gateway call returned) and (b) the
// worker's backend is waiting for that lock (it is inside the outcome transaction). Then the
// worker is SIGKILLed. Its orphaned backend, still queued on the lock, is terminated before
// the lock is released (PostgreSQL notices a vanished client only when it next talks to it).
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/integration/payments/batch_charge_fixture.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/cli_runner.hpp"
#include "tests/support/redis_guard.hpp"
#include "tests/support/test_env.hpp"

using namespace artistsaid;
using namespace std::chrono_literals;

namespace {

constexpr const char* kWorkflow = R"(name: crash-charge
version: 1
description: The billing cycle's collection and batch charge steps, for the crash test.
inputs:
  as_of: { type: date }
steps:
  - id: collect
    uses: payments.collect_due
    with: { as_of: "${{ inputs.as_of }}", schedule: [0], batch_size: 100 }
  - id: charge_batches
    needs: [collect]
    for_each: "${{ steps.collect.outputs.batches }}"
    uses: payments.charge_batch
    with:
      invoices: "${{ steps.collect.outputs.invoices }}"
      batch: "${{ item }}"
      batch_size: 100
    retry: { attempts: 4, backoff: exponential, delay: 1s, max_delay: 5s }
    timeout: 90s
)";

// The backends waiting for a lock on the ledger tables of this database.
constexpr const char* kWaitingOnLedger =
    "SELECT l.pid FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
    " WHERE NOT l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = "
    "       current_database()) AND c.relname IN ('ledger_transactions', 'ledger_entries')";

}  // namespace

TEST_CASE("Payments.Batch.WorkerKilledBetweenTheGatewayAndTheOutcomeCommitChargesNothingTwice") {
    test::BatchChargeDatabase db;
    test::RedisPrefixGuard guard;
    const std::vector<long long> invoices = {
        db.unpaid_invoice("USD", 1999, 190000, "4242424242424242"),
        db.unpaid_invoice("EUR", 2500, 0, "4000000000000002"),  // declined
        db.unpaid_invoice("JPY", 1500, 100000, "5555555555554444"),
        db.unpaid_invoice("USD", 1000, 0, "4000000000000341"),  // charged, answer lost
        db.unpaid_invoice("EUR", 4200, 0, "4242424242424242"),
        db.unpaid_invoice("BHD", 12345, 50000, "5555555555554444")};
    const auto dir =
        std::filesystem::temp_directory_path() / ("aa-crash-charge-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "crash-charge.yaml") << kWorkflow;
    test::CliOptions opts;
    opts.env = {{"ARTISTSAID_DATABASE_URL", db.db.url()},
                {"ARTISTSAID_REDIS_URL", test::redis_url()},
                {"ARTISTSAID_QUEUE_PREFIX", guard.prefix()},
                {"ARTISTSAID_WORKFLOWS_DIR", dir.string()},
                {"ARTISTSAID_GATEWAYS_FILE", ""},
                {"ARTISTSAID_LOG_FORMAT", "text"}};
    opts.timeout = 60s;

    // No ledger insert can commit while this transaction holds its lock.
    pqxx::connection holder(db.db.url());
    auto lock = std::make_unique<pqxx::work>(holder);
    lock->exec("LOCK TABLE ledger_transactions, ledger_entries IN SHARE MODE");

    auto worker = std::make_unique<test::ChildProcess>(
        test::cli_binary(), std::vector<std::string>{"worker"}, opts.env);
    auto started =
        test::run_cli({"--json", "run", "crash-charge", "--input", "as_of=2026-03-01"}, opts);
    INFO(started.out, started.err);
    REQUIRE(started.exit_code == 0);

    const bool at_crash_point = test::eventually(
        [&] {
            return db.scalar("SELECT count(*) FROM sandbox_operations WHERE kind = 'charge'") ==
                       6 &&
                   db.scalar("SELECT count(*) FROM (" + std::string(kWaitingOnLedger) + ") w") > 0;
        },
        60s);
    const std::string first_worker = worker->output();
    INFO(first_worker);
    REQUIRE(at_crash_point);
    // Every gateway call was made; no outcome is committed.
    CHECK(db.scalar("SELECT count(*) FROM payments WHERE status = 'unknown'") == 6);
    worker->signal(SIGKILL);
    REQUIRE(worker->wait(10s).value_or(0) == 128 + SIGKILL);
    CHECK(db.scalar("SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM (" +
                    std::string(kWaitingOnLedger) + ") w) t") > 0);
    lock->abort();
    lock.reset();
    CHECK(db.scalar("SELECT count(*) FROM payments WHERE status = 'unknown'") == 6);
    CHECK(db.scalar("SELECT count(*) FROM ledger_transactions WHERE kind = 'payment.succeeded'") ==
          0);

    // Another worker: the killed worker's batch job is redelivered once its lease expires, and
    // the batch looks every unknown payment up before anything else.
    worker = std::make_unique<test::ChildProcess>(test::cli_binary(),
                                                  std::vector<std::string>{"worker"}, opts.env);
    const bool finished = test::eventually(
        [&] {
            return db.scalar(
                       "SELECT count(*) FROM workflow_runs WHERE status IN ('succeeded', "
                       "'failed', 'cancelled')") == 1;
        },
        90s);
    const std::string second_worker = worker->output();
    INFO(second_worker);
    REQUIRE(finished);
    CHECK(db.text("SELECT status FROM workflow_runs") == "succeeded");
    worker.reset();
    auto reconcile = test::run_cli({"--json", "payments", "reconcile", "--min-age", "0s"}, opts);
    INFO(reconcile.out, reconcile.err);
    REQUIRE(reconcile.exit_code == 0);

    // No second charge: still one sandbox charge per invoice.
    CHECK(db.scalar("SELECT count(*) FROM sandbox_operations WHERE kind = 'charge'") == 6);
    for (auto id : invoices) CHECK(db.sandbox_charges(id) == 1);
    // Each invoice settled exactly once.
    CHECK(db.scalar("SELECT count(*) FROM payments WHERE status IN ('unknown', 'pending')") == 0);
    CHECK(db.scalar("SELECT count(*) FROM payments WHERE status = 'succeeded'") == 5);
    CHECK(db.scalar("SELECT count(*) FROM payments WHERE status = 'declined'") == 1);
    CHECK(db.scalar("SELECT count(*) FROM invoices WHERE status = 'paid'") == 5);
    CHECK(db.scalar("SELECT count(*) FROM (SELECT invoice_id FROM payments WHERE status = "
                    "'succeeded' GROUP BY 1 HAVING count(*) > 1) d") == 0);
    CHECK(db.scalar("SELECT count(*) FROM ledger_transactions WHERE kind = 'payment.succeeded'") ==
          5);
    CHECK(db.scalar("SELECT count(*) FROM payments p JOIN invoices i ON i.id = p.invoice_id "
                    "WHERE p.status = 'succeeded' AND i.amount_paid <> p.amount") == 0);
    // Each succeeded payment linked to one posting, and the postings move exactly the money
    // that was charged, per currency: nothing posted twice.
    CHECK(db.scalar("SELECT count(*) FROM payments WHERE (status = 'succeeded') <> "
                    "(ledger_transaction_id IS NOT NULL)") == 0);
    CHECK(db.scalar("SELECT count(*) FROM (SELECT p.currency, sum(p.amount) AS paid FROM "
                    "payments p WHERE p.status = 'succeeded' GROUP BY 1) s WHERE s.paid <> "
                    "(SELECT sum(e.amount) FROM ledger_entries e JOIN ledger_accounts a ON "
                    "a.id = e.account_id AND a.code = 'gateway_clearing' JOIN "
                    "ledger_transactions t ON t.id = e.transaction_id AND t.kind = "
                    "'payment.succeeded' WHERE e.currency = s.currency)") == 0);
    auto verify = test::run_cli({"ledger", "verify"}, opts);
    INFO(verify.out, verify.err);
    CHECK(verify.exit_code == 0);

    // The next run of the day charges nothing again.
    worker = std::make_unique<test::ChildProcess>(test::cli_binary(),
                                                  std::vector<std::string>{"worker"}, opts.env);
    auto again = test::run_cli(
        {"run", "crash-charge", "--input", "as_of=2026-03-01", "--wait", "--timeout", "60s"}, opts);
    INFO(again.out, again.err);
    CHECK(again.exit_code == 0);
    worker.reset();
    CHECK(db.scalar("SELECT count(*) FROM sandbox_operations WHERE kind = 'charge'") == 6);
    CHECK(db.ledger_ok());
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
}
