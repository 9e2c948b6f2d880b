// The artistsaid binary as an operator sees it: help, version, usage errors, config.
#include <doctest/doctest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "tests/support/cli_runner.hpp"

using artistsaid::test::run_cli;

TEST_CASE("Cli.Help.AtEveryLevel") {
    for (std::vector<std::string> args : {std::vector<std::string>{"--help"},
                                          {"migrate", "--help"},
                                          {"migrate", "up", "--help"},
                                          {"config", "show", "-h"}}) {
        auto r = run_cli(args);
        CAPTURE(r.err);
        CHECK(r.exit_code == 0);
        CHECK(r.out.find("Usage: artistsaid") == 0);
        CHECK(r.out.find("--config") != std::string::npos);
    }
    auto root = run_cli({"--help"});
    CHECK(root.out.find("migrate") != std::string::npos);
    auto up = run_cli({"migrate", "up", "--help"});
    CHECK(up.out.find("Usage: artistsaid migrate up") == 0);
}

TEST_CASE("Cli.Version.AtEveryLevel") {
    for (std::vector<std::string> args :
         {std::vector<std::string>{"--version"}, {"migrate", "--version"}, {"migrate", "status", "--version"}}) {
        auto r = run_cli(args);
        CHECK(r.exit_code == 0);
        CHECK(r.out.rfind("artistsaid ", 0) == 0);
    }
}

TEST_CASE("Cli.Usage.UnknownCommandsAndFlagsExit2WithShortError") {
    auto unknown = run_cli({"migrat", "up"});
    CHECK(unknown.exit_code == 2);
    CHECK(unknown.err.find("unknown command 'migrat'") != std::string::npos);
    CHECK(unknown.err.find("did you mean 'migrate'") != std::string::npos);
    CHECK(unknown.err.size() < 300);

    auto sub = run_cli({"migrate", "sideways"});
    CHECK(sub.exit_code == 2);
    CHECK(sub.err.find("unknown command 'sideways' for 'artistsaid migrate'") != std::string::npos);

    auto flag = run_cli({"migrate", "status", "--frobnicate"});
    CHECK(flag.exit_code == 2);
    CHECK(flag.err.find("frobnicate") != std::string::npos);

    auto group = run_cli({"migrate"});
    CHECK(group.exit_code == 2);
    CHECK(group.err.find("needs a command") != std::string::npos);

    auto args = run_cli({"migrate", "new"});
    CHECK(args.exit_code == 2);
    CHECK(args.err.find("takes NAME") != std::string::npos);

    auto none = run_cli({});
    CHECK(none.exit_code == 2);
}

TEST_CASE("Cli.ConfigShow.RedactsSecretsAndShowsSources") {
    artistsaid::test::CliOptions opts;
    opts.env = {{"ARTISTSAID_DATABASE_URL", "postgresql://app:Sup3rS3cret!@db.internal:5432/aa"},
                {"ARTISTSAID_REDIS_URL", "redis://:R3disPw@cache:6379/2"}};
    auto r = run_cli({"config", "show", "--log-level", "debug"}, opts);
    CAPTURE(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("Sup3rS3cret") == std::string::npos);
    CHECK(r.out.find("R3disPw") == std::string::npos);
    CHECK(r.err.find("Sup3rS3cret") == std::string::npos);
    CHECK(r.out.find("postgresql://app:***@db.internal:5432/aa") != std::string::npos);

    auto j = run_cli({"config", "show", "--json", "--log-level", "debug"}, opts);
    REQUIRE(j.exit_code == 0);
    auto doc = nlohmann::json::parse(j.out);
    std::map<std::string, std::pair<std::string, std::string>> settings;
    for (const auto& s : doc["settings"])
        settings[s["key"]] = {s["value"], s["source"]};
    CHECK(settings["database_url"].second == "env");
    CHECK(settings["log.level"] == std::make_pair(std::string("debug"), std::string("flag")));
    CHECK(settings["queue.prefix"].second == "default");
    CHECK(j.out.find("R3disPw") == std::string::npos);
}

TEST_CASE("Cli.Config.BadValueExits2") {
    artistsaid::test::CliOptions opts;
    opts.env = {{"ARTISTSAID_LOG_FORMAT", "xml"}};
    auto r = run_cli({"config", "show"}, opts);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("log.format") != std::string::npos);
}
