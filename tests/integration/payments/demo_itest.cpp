// `artistsaid demo`, the README's first command, run as a user runs it: against the test's
// PostgreSQL and Redis (ARTISTSAID_*_URL set), and with no URL at all (its own servers
// under --dir, started, reused, and stopped with --down).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <string>

#include "tests/support/cli_runner.hpp"
#include "tests/support/redis_guard.hpp"
#include "tests/support/temp_database.hpp"
#include "tests/support/test_env.hpp"

using namespace artistsaid;
namespace fs = std::filesystem;

namespace {

std::size_t files_in(const fs::path& dir, const std::string& extension) {
    std::size_t n = 0;
    if (!fs::exists(dir)) return 0;
    for (const auto& e : fs::recursive_directory_iterator(dir))
        if (e.is_regular_file() && e.path().extension() == extension) ++n;
    return n;
}

long long scalar(const std::string& url, const std::string& sql) {
    pqxx::connection c(url);
    pqxx::read_transaction tx(c);
    auto r = tx.exec1(sql);
    return r[0].is_null() ? 0 : r[0].as<long long>();
}

// A live process (a zombie whose parent has not reaped it yet counts as gone).
bool alive(long pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    if (!std::getline(in, stat)) return false;
    auto close = stat.rfind(')');
    return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
}

struct DemoDir {
    fs::path path = fs::temp_directory_path() / ("aa-demo-" + std::to_string(::getpid()) + "-" +
                                                 std::to_string(std::rand()));
    ~DemoDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

}  // namespace

TEST_CASE("Demo.OnConfiguredServers.BillsChargesReconcilesMailsVerifiesThenRerunCreatesNothing") {
    test::TempDatabase db;
    test::RedisPrefixGuard guard;
    DemoDir dir;
    test::CliOptions o;
    o.env = {{"ARTISTSAID_DATABASE_URL", db.url()},
             {"ARTISTSAID_REDIS_URL", test::redis_url()},
             {"ARTISTSAID_QUEUE_PREFIX", guard.prefix()},
             {"ARTISTSAID_LOG_LEVEL", "warn"}};
    o.timeout = std::chrono::minutes(10);
    const std::vector<std::string> args{"--json", "demo", "--dir", dir.path.string(), "--clients", "60",
                                        "--subscriptions", "150", "--as-of", "2026-03-02"};
    // A dry run first: the data is seeded, the cycle invoices and charges nothing.
    auto dry_args = args;
    dry_args.push_back("--dry-run");
    auto dry = test::run_cli(dry_args, o);
    INFO(dry.err);
    REQUIRE(dry.exit_code == 0);
    auto d = nlohmann::json::parse(dry.out);
    CHECK(d["dry_run"] == true);
    CHECK(d["data"]["seeded_now"] == true);
    const long long would_invoice = d["invoices"]["this_run"];
    CHECK(would_invoice > 0);
    CHECK(d["invoices"]["to_collect"].get<long long>() > 0);
    CHECK(scalar(db.url(), "SELECT count(*) FROM invoices") == 0);
    CHECK(scalar(db.url(), "SELECT count(*) FROM payments") == 0);
    CHECK(scalar(db.url(), "SELECT count(*) FROM sandbox_operations") == 0);

    auto first = test::run_cli(args, o);
    INFO(first.err);
    REQUIRE(first.exit_code == 0);
    auto s = nlohmann::json::parse(first.out);
    CHECK(s["run"]["status"] == "succeeded");
    CHECK(s["data"]["seeded_now"] == false);
    CHECK(s["invoices"]["this_run"] == would_invoice);  // the dry run's preview, by the same code
    CHECK(s["data"]["counts"]["clients"] == 60);
    const long long invoiced = s["invoices"]["this_run"];
    CHECK(invoiced > 0);
    CHECK(invoiced == scalar(db.url(), "SELECT count(*) FROM invoices"));
    // Every currency of the seed appears.
    for (const char* c : {"USD", "EUR", "JPY"}) CHECK(s["invoices"]["all_by_currency"].contains(c));
    // The seed's cards: successes, declines, lost answers — each lost answer reconciled.
    const auto& charged = s["payments"]["this_run"];
    const long long charges = charged["succeeded"].get<long long>() + charged["declined"].get<long long>() +
                              charged["unknown"].get<long long>();
    CHECK(charges == scalar(db.url(), "SELECT count(*) FROM payments"));
    CHECK(charges == scalar(db.url(), "SELECT count(*) FROM sandbox_operations WHERE kind = 'charge'"));
    CHECK(charged["succeeded"].get<long long>() > 0);
    CHECK(charged["declined"].get<long long>() > 0);
    CHECK(s["payments"]["reconciled"] == charged["unknown"]);
    CHECK(scalar(db.url(), "SELECT count(*) FROM payments WHERE status = 'unknown'") == 0);
    // Documents: an HTML invoice for every unpaid invoice, a receipt for every paid one,
    // each stored once, and one email each in the outbox.
    const long long unpaid = scalar(db.url(), "SELECT count(*) FROM invoices WHERE status = 'unpaid'");
    const long long paid = scalar(db.url(), "SELECT count(*) FROM invoices WHERE status = 'paid'");
    CHECK(s["documents"]["all_invoices"] == unpaid);
    CHECK(s["documents"]["all_receipts"] == paid);
    CHECK(s["emails"]["this_run_sent"] == unpaid + paid);
    CHECK(files_in(dir.path / "storage", ".html") == static_cast<std::size_t>(unpaid + paid));
    // Reminders: one email per notice dunning recorded today.
    CHECK(s["emails"]["this_run_reminders"] == s["dunning"]["notices"]);
    CHECK(s["dunning"]["notices"].get<long long>() > 0);
    const long long mails = unpaid + paid + s["dunning"]["notices"].get<long long>();
    CHECK(files_in(dir.path / "outbox", ".eml") == static_cast<std::size_t>(mails));
    CHECK(s["ledger"]["verified"] == true);

    // Again: the data is reused, nothing is invoiced, charged, stored or mailed twice.
    auto again = test::run_cli(args, o);
    INFO(again.err);
    REQUIRE(again.exit_code == 0);
    auto t = nlohmann::json::parse(again.out);
    CHECK(t["data"]["seeded_now"] == false);
    CHECK(t["invoices"]["this_run"] == 0);
    CHECK(scalar(db.url(), "SELECT count(*) FROM invoices") == invoiced);
    CHECK(scalar(db.url(), "SELECT count(*) FROM sandbox_operations WHERE kind = 'charge'") == charges);
    CHECK(t["emails"]["this_run_sent"] == 0);
    CHECK(t["emails"]["this_run_reminders"] == 0);
    CHECK(files_in(dir.path / "outbox", ".eml") == static_cast<std::size_t>(mails));
    CHECK(t["ledger"]["verified"] == true);
    CHECK(scalar(db.url(), "SELECT count(*) FROM clients") == 60);

    // The human summary names every part.
    o.env["ARTISTSAID_LOG_LEVEL"] = "warn";
    auto text = test::run_cli({"demo", "--dir", dir.path.string()}, o);
    INFO(text.out, text.err);
    CHECK(text.exit_code == 0);
    for (const char* part : {"Invoices", "Payments", "reconciled", "Dunning", "Documents", "Emails",
                             "Commissions", "Ledger        verified"})
        CHECK(text.out.find(part) != std::string::npos);
}

TEST_CASE("Demo.BadInput.ClearErrorsAndNothingWritten") {
    test::TempDatabase db;
    test::CliOptions o;
    o.env = {{"ARTISTSAID_DATABASE_URL", db.url()}};  // Redis missing: both or neither
    auto half = test::run_cli({"demo", "--dir", "/nonexistent/never"}, o);
    CHECK(half.exit_code == 2);
    CHECK(half.err.find("set both ARTISTSAID_DATABASE_URL and ARTISTSAID_REDIS_URL") != std::string::npos);
    CHECK(scalar(db.url(), "SELECT count(*) FROM pg_tables WHERE tablename = 'clients'") == 0);
    o.env["ARTISTSAID_REDIS_URL"] = test::redis_url();
    auto date = test::run_cli({"demo", "--as-of", "2026-02-30"}, o);
    CHECK(date.exit_code == 2);
    CHECK(date.err.find("--as-of") != std::string::npos);
    CHECK(scalar(db.url(), "SELECT count(*) FROM pg_tables WHERE tablename = 'clients'") == 0);
}

TEST_CASE("Demo.OwnServers.StartedUnderDirReusedThenStoppedWithDown") {
    DemoDir dir;
    test::CliOptions o;  // no ARTISTSAID_*_URL: the demo starts its own servers
    o.timeout = std::chrono::minutes(10);
    o.env = {{"ARTISTSAID_QUEUE_PREFIX", "demo-own"}, {"ARTISTSAID_LOG_LEVEL", "warn"}};
    const std::vector<std::string> args{"--json", "demo", "--dir", dir.path.string(), "--clients", "20",
                                        "--as-of", "2026-03-02"};
    auto first = test::run_cli(args, o);
    INFO(first.err);
    REQUIRE(first.exit_code == 0);
    CHECK(nlohmann::json::parse(first.out)["ledger"]["verified"] == true);
    CHECK(fs::exists(dir.path / "pgdata" / "PG_VERSION"));
    auto pg_pid = [&] {
        std::ifstream in(dir.path / "pgdata" / "postmaster.pid");
        long pid = 0;
        in >> pid;
        return pid;
    };
    const long pid = pg_pid();
    REQUIRE(pid > 0);

    auto again = test::run_cli(args, o);
    INFO(again.err);
    REQUIRE(again.exit_code == 0);
    CHECK(again.err.find("reusing PostgreSQL") != std::string::npos);
    CHECK(pg_pid() == pid);  // the same server, with the data of the first run
    CHECK(nlohmann::json::parse(again.out)["data"]["seeded_now"] == false);

    auto down = test::run_cli({"demo", "--down", "--dir", dir.path.string()}, o);
    INFO(down.out, down.err);
    CHECK(down.exit_code == 0);
    CHECK_FALSE(alive(pid));  // stopped
    CHECK(fs::exists(dir.path / "pgdata" / "PG_VERSION"));  // data kept
}
