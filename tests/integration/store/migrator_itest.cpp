// Migrations against a real PostgreSQL: apply, re-apply as a no-op, refuse an edited
// file, serialise concurrent runs, and report an unreachable database quickly.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <thread>

#include "engine/core/error.hpp"
#include "engine/store/migrator.hpp"
#include "tests/support/cli_runner.hpp"
#include "tests/support/temp_database.hpp"
#include "tests/support/test_env.hpp"

using artistsaid::ErrorCode;
using artistsaid::store::Migrator;
using artistsaid::test::TempDatabase;
namespace fs = std::filesystem;

namespace {

// A migrations folder of the test's own, deleted afterwards.
struct TempMigrations {
    TempMigrations() : dir(fs::temp_directory_path() / artistsaid::test::unique_name("aa_mig")) {
        fs::create_directories(dir);
    }
    ~TempMigrations() { fs::remove_all(dir); }
    void write(const std::string& name, const std::string& sql) const {
        std::ofstream(dir / name, std::ios::trunc) << sql;
    }
    fs::path dir;
};

long long count(const std::string& url, const std::string& sql) {
    pqxx::connection c(url);
    pqxx::read_transaction tx(c);
    return tx.exec1(sql)[0].as<long long>();
}

bool table_exists(const std::string& url, const std::string& table) {
    pqxx::connection c(url);
    pqxx::read_transaction tx(c);
    return tx.exec1("SELECT to_regclass(" + tx.quote(table) + ") IS NOT NULL")[0].as<bool>();
}

}  // namespace

TEST_CASE("Migrator.Up.AppliesInOrderThenIsANoOp") {
    TempDatabase db;
    TempMigrations m;
    m.write("0001_artists.sql", "CREATE TABLE artists (id bigint PRIMARY KEY, name text NOT NULL);");
    m.write("0002_galleries.sql",
            "CREATE TABLE galleries (id bigint PRIMARY KEY, artist_id bigint REFERENCES artists);\n"
            "INSERT INTO artists VALUES (1, 'Ada');");
    m.write("README.md", "not a migration");

    Migrator migrator(db.url(), m.dir);
    auto applied = migrator.up();
    REQUIRE(applied.size() == 2);
    CHECK(applied[0].name == "0001_artists.sql");
    CHECK(applied[1].name == "0002_galleries.sql");
    CHECK(table_exists(db.url(), "galleries"));
    CHECK(count(db.url(), "SELECT count(*) FROM schema_migrations") == 2);

    CHECK(migrator.up().empty());
    CHECK(count(db.url(), "SELECT count(*) FROM artists") == 1);  // not run twice

    auto status = migrator.status();
    REQUIRE(status.size() == 2);
    CHECK(status[0].applied);
    CHECK_FALSE(status[0].changed);
    CHECK(status[1].applied_at.has_value());
}

TEST_CASE("Migrator.Up.RefusesAnEditedAppliedFileAndAppliesNothing") {
    TempDatabase db;
    TempMigrations m;
    m.write("0001_artists.sql", "CREATE TABLE artists (id bigint PRIMARY KEY);");
    Migrator migrator(db.url(), m.dir);
    REQUIRE(migrator.up().size() == 1);

    m.write("0001_artists.sql", "CREATE TABLE artists (id bigint PRIMARY KEY, name text);");
    m.write("0002_more.sql", "CREATE TABLE more_things (id int);");
    try {
        migrator.up();
        FAIL("an edited migration must be refused");
    } catch (const artistsaid::InputError& e) {
        CHECK(e.code() == ErrorCode::kMigrationChanged);
        CHECK(std::string(e.what()).find("0001_artists.sql") != std::string::npos);
        CHECK(static_cast<int>(e.exit_code()) == 2);
    }
    CHECK_FALSE(table_exists(db.url(), "more_things"));
    auto status = migrator.status();
    CHECK(status[0].changed);
    CHECK_FALSE(status[1].applied);
}

TEST_CASE("Migrator.Up.AFailingFileRollsBackOnlyItself") {
    TempDatabase db;
    TempMigrations m;
    m.write("0001_ok.sql", "CREATE TABLE ok_table (id int);");
    m.write("0002_broken.sql", "CREATE TABLE half (id int);\nSELECT * FROM no_such_table;");
    Migrator migrator(db.url(), m.dir);
    CHECK_THROWS_AS(migrator.up(), artistsaid::StoreError);
    CHECK(table_exists(db.url(), "ok_table"));
    CHECK_FALSE(table_exists(db.url(), "half"));
    CHECK(count(db.url(), "SELECT count(*) FROM schema_migrations") == 1);
}

TEST_CASE("Migrator.Up.ConcurrentRunsAreSerialised") {
    for (int runners : {2, 4}) {
        CAPTURE(runners);
        TempDatabase db;
        TempMigrations m;
        // Not idempotent on purpose: applied twice it would fail with "already exists".
        m.write("0001_slow.sql", "SELECT pg_sleep(0.5);\nCREATE TABLE slow_table (id int);");
        m.write("0002_after.sql", "CREATE TABLE after_table (id int);");
        std::atomic<int> applied_total{0}, failures{0};
        std::vector<std::thread> threads;
        for (int i = 0; i < runners; ++i) {
            threads.emplace_back([&] {
                try {
                    applied_total += static_cast<int>(Migrator(db.url(), m.dir).up().size());
                } catch (...) {
                    ++failures;
                }
            });
        }
        for (auto& t : threads) t.join();
        CHECK(failures == 0);
        CHECK(applied_total == 2);
        CHECK(count(db.url(), "SELECT count(*) FROM schema_migrations") == 2);
    }
}

TEST_CASE("Migrator.RepositoryMigrationsApplyCleanly") {
    TempDatabase db;
    Migrator migrator(db.url(), fs::path(artistsaid::test::source_dir()) / "migrations");
    auto applied = migrator.up();
    CHECK_FALSE(applied.empty());
    CHECK(migrator.up().empty());
}

TEST_CASE("Migrator.New.CreatesTheNextNumberedFile") {
    TempMigrations m;
    m.write("0001_first.sql", "SELECT 1;");
    m.write("0007_seventh.sql", "SELECT 1;");
    auto path = Migrator::create(m.dir, "add_payout_batches");
    CHECK(path.filename() == "0008_add_payout_batches.sql");
    CHECK(fs::exists(path));
    CHECK_THROWS_AS(Migrator::create(m.dir, "Bad Name"), artistsaid::InputError);
    TempMigrations bad;
    bad.write("1_short.sql", "SELECT 1;");
    CHECK_THROWS_AS(Migrator(std::string(), bad.dir).files(), artistsaid::InputError);
}

TEST_CASE("Cli.Migrate.UpStatusAndEditedFile") {
    TempDatabase db;
    TempMigrations m;
    m.write("0001_artists.sql", "CREATE TABLE artists (id bigint PRIMARY KEY);");
    artistsaid::test::CliOptions opts;
    opts.env = {{"ARTISTSAID_DATABASE_URL", db.url()},
                {"ARTISTSAID_MIGRATIONS_DIR", m.dir.string()}};

    auto up = artistsaid::test::run_cli({"migrate", "up"}, opts);
    CAPTURE(up.err);
    CHECK(up.exit_code == 0);
    CHECK(up.out.find("applied 0001_artists.sql") != std::string::npos);

    auto again = artistsaid::test::run_cli({"migrate", "up"}, opts);
    CHECK(again.exit_code == 0);
    CHECK(again.out.find("up to date") != std::string::npos);

    auto status = artistsaid::test::run_cli({"migrate", "status", "--json"}, opts);
    CHECK(status.exit_code == 0);
    CHECK(status.out.find("\"state\": \"applied\"") != std::string::npos);

    m.write("0001_artists.sql", "CREATE TABLE artists (id bigint PRIMARY KEY, x int);");
    auto edited = artistsaid::test::run_cli({"migrate", "up"}, opts);
    CHECK(edited.exit_code == 2);
    CHECK(edited.err.find("0001_artists.sql") != std::string::npos);
    CHECK(edited.err.find("changed") != std::string::npos);
}

TEST_CASE("Cli.Migrate.UnreachableDatabaseExits3Within10Seconds") {
    // A port nobody listens on: refused at once.
    artistsaid::test::CliOptions refused;
    refused.env = {{"ARTISTSAID_DATABASE_URL", "postgresql://app:TopS3cret@127.0.0.1:1/aa"}};
    auto r = artistsaid::test::run_cli({"migrate", "up"}, refused);
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("cannot connect to PostgreSQL") != std::string::npos);
    CHECK(r.err.find("TopS3cret") == std::string::npos);
    CHECK(r.elapsed < std::chrono::seconds(10));

    // A listener that accepts and never answers: only the connect timeout ends the wait.
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd, 16) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    int port = ntohs(addr.sin_port);
    artistsaid::test::CliOptions silent;
    silent.env = {{"ARTISTSAID_DATABASE_URL",
                   "postgresql://app@127.0.0.1:" + std::to_string(port) + "/aa"}};
    silent.timeout = std::chrono::seconds(30);
    auto s = artistsaid::test::run_cli({"migrate", "status"}, silent);
    ::close(fd);
    CHECK(s.exit_code == 3);
    CHECK(s.err.find("cannot connect to PostgreSQL") != std::string::npos);
    CHECK(s.elapsed < std::chrono::seconds(10));
}
