// The billing cycle as an operator runs it: `billing seed`, `billing preview`, the
// workflows/billing-cycle.yaml run through a real `artistsaid worker` (twice: the second run
// bills nothing), and `ledger verify` exit codes.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "tests/support/child_process.hpp"
#include "tests/support/cli_runner.hpp"
#include "tests/support/redis_guard.hpp"
#include "tests/support/temp_database.hpp"
#include "tests/support/test_env.hpp"

using namespace artistsaid;
using namespace std::chrono_literals;

namespace {

struct BillingCli {
    test::TempDatabase db;
    test::RedisPrefixGuard guard;
    test::CliOptions opts;
    // The cycle's documents and emails (local storage, outbox).
    std::filesystem::path files = std::filesystem::temp_directory_path() /
                                  ("aa-billing-cli-" + std::to_string(::getpid()));

    ~BillingCli() {
        std::error_code ec;
        std::filesystem::remove_all(files, ec);
    }
    BillingCli() {
        opts.env = {{"ARTISTSAID_DATABASE_URL", db.url()},
                    {"ARTISTSAID_REDIS_URL", test::redis_url()},
                    {"ARTISTSAID_QUEUE_PREFIX", guard.prefix()},
                    {"ARTISTSAID_WORKFLOWS_DIR",
                     (std::filesystem::path(test::source_dir()) / "workflows").string()},
                    {"ARTISTSAID_STORAGE_DIR", (files / "storage").string()},
                    {"ARTISTSAID_EMAIL_OUTBOX_DIR", (files / "outbox").string()},
                    {"ARTISTSAID_EMAIL_FROM", "billing@artistsaid.test"},
                    {"ARTISTSAID_LOG_FORMAT", "text"}};
        opts.timeout = 120s;
        REQUIRE(test::run_cli({"migrate", "up"}, opts).exit_code == 0);
    }
    long long scalar(const std::string& sql) {
        pqxx::connection c(db.url());
        pqxx::nontransaction tx(c);
        return tx.exec1(sql)[0].as<long long>();
    }
};

}  // namespace

TEST_CASE("Billing.Cli.BillingCycleWorkflowRunsTwiceAndTheLedgerVerifies") {
    BillingCli f;
    auto seed = test::run_cli({"billing", "seed", "--as-of", "2026-01-15", "--clients", "60",
                               "--subscriptions", "150", "--orders", "30", "--json"},
                              f.opts);
    REQUIRE(seed.exit_code == 0);
    CHECK(nlohmann::json::parse(seed.out)["subscriptions"] == 150);

    auto preview = test::run_cli(
        {"billing", "preview", "--as-of", "2026-01-15", "--lead-days", "7", "--json"}, f.opts);
    REQUIRE(preview.exit_code == 0);
    const auto planned = nlohmann::json::parse(preview.out);
    CHECK(planned["subscription_periods"] == 150);
    CHECK(f.scalar("SELECT count(*) FROM invoices") == 0);  // a preview writes nothing

    auto worker = std::make_unique<test::ChildProcess>(
        test::cli_binary(), std::vector<std::string>{"worker"}, f.opts.env);
    auto run = test::run_cli({"run", "billing-cycle", "--input", "as_of=2026-01-15", "--wait",
                              "--timeout", "100s"},
                             f.opts);
    INFO(run.out, run.err);
    REQUIRE(run.exit_code == 0);
    const long long invoices = f.scalar("SELECT count(*) FROM invoices");
    CHECK(invoices == planned["invoice_count"].get<long long>());
    CHECK(f.scalar("SELECT count(*) FROM commissions") > 0);
    CHECK(f.scalar("SELECT count(*) FROM collections") >= 2);  // invoices and notices
    const long long documents = f.scalar("SELECT count(*) FROM documents");
    CHECK(documents == f.scalar("SELECT count(*) FROM invoices WHERE status IN ('paid', 'unpaid')"));

    auto again = test::run_cli({"run", "billing-cycle", "--input", "as_of=2026-01-15", "--wait",
                                "--timeout", "100s"},
                               f.opts);
    REQUIRE(again.exit_code == 0);
    CHECK(f.scalar("SELECT count(*) FROM invoices") == invoices);
    CHECK(f.scalar("SELECT count(*) FROM documents") == documents);
    worker.reset();

    auto verify = test::run_cli({"ledger", "verify"}, f.opts);
    CHECK(verify.exit_code == 0);
    CHECK(verify.out.find("ledger verified") != std::string::npos);
    {
        pqxx::connection c(f.db.url());
        pqxx::work tx(c);
        tx.exec("UPDATE invoices SET amount_paid = amount_paid + 1 WHERE id = (SELECT min(id) FROM invoices)");
        tx.commit();
    }
    auto broken = test::run_cli({"ledger", "verify", "--json"}, f.opts);
    CHECK(broken.exit_code == 1);
    CHECK(nlohmann::json::parse(broken.out)["ok"] == false);

    CHECK(test::run_cli({"billing", "preview", "--as-of", "2026-02-30"}, f.opts).exit_code == 2);
    CHECK(test::run_cli({"billing", "seed"}, f.opts).exit_code == 2);
}

TEST_CASE("Billing.Bench.SmallRunInvoicesChargesAndVerifies") {
    test::CliOptions o;
    o.env = {{"ARTISTSAID_DATABASE_URL", test::database_url()}, {"ARTISTSAID_LOG_LEVEL", "warn"}};
    o.timeout = 300s;
    auto r = test::run_cli({"--json", "bench", "billing", "--subscriptions", "400", "--charge-threads", "4"}, o);
    INFO(r.out, r.err);
    REQUIRE(r.exit_code == 0);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j["subscriptions"] == 400);
    CHECK(j["invoices"].get<long long>() > 0);
    const long long charges = j["charges"];
    CHECK(charges > 0);
    long long sum = 0;
    for (const auto& [status, n] : j["charge_outcomes"].items()) sum += n.get<long long>();
    CHECK(sum == charges);
    CHECK(j["charge_outcomes"].value("succeeded", 0LL) > 0);
    CHECK_FALSE(j["charge_outcomes"].contains("error"));
    CHECK(j["ledger_ok"] == true);
    CHECK(j["seconds"].get<double>() >= j["invoice_seconds"].get<double>());
    CHECK(test::run_cli({"bench", "billing", "--subscriptions", "10", "--charge-threads", "0"}, o).exit_code == 2);
}
