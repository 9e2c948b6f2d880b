// `artistsaid plugins list` and `artistsaid validate` against the plugins' declared schemas.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/cli_runner.hpp"
#include "tests/support/test_env.hpp"

using namespace artistsaid;

TEST_CASE("PluginsCli.ListJsonShowsEveryPluginWithInputsAndOutputs") {
    auto r = test::run_cli({"plugins", "list", "--json"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    auto j = nlohmann::json::parse(r.out);
    std::map<std::string, nlohmann::json> types;
    for (auto& t : j["step_types"]) types[t["name"]] = t;
    for (std::string name : {"email.send", "sms.send", "storage.put", "storage.get", "storage.delete",
                             "storage.presign", "http.request", "exec", "log", "wait.until"})
        CHECK_MESSAGE(types.count(name) == 1, name);
    auto& email = types["email.send"];
    bool to_required = false;
    for (auto& f : email["inputs"]) to_required |= f["name"] == "to" && f["required"] == true;
    CHECK(to_required);
    bool has_message_id = false;
    for (auto& f : email["outputs"]) has_message_id |= f["name"] == "message_id";
    CHECK(has_message_id);
}

TEST_CASE("PluginsCli.ListTable") {
    auto r = test::run_cli({"plugins", "list"});
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("STEP TYPE") != std::string::npos);
    CHECK(r.out.find("sms.send") != std::string::npos);
    CHECK(r.out.find("to*:string") != std::string::npos);
}

TEST_CASE("PluginsCli.ValidateChecksPluginInputs") {
    auto dir = std::filesystem::temp_directory_path() / test::unique_name("wf");
    std::filesystem::create_directories(dir);
    {
        std::ofstream(dir / "notify.yaml") << "name: notify\nversion: 1\nsteps:\n"
                                              "  - id: mail\n    uses: email.send\n"
                                              "    with: { template: welcome, too: a@b.example }\n"
                                              "  - id: text\n    uses: sms.send\n"
                                              "    with: { to: \"+4915112345678\", body: hi }\n";
    }
    auto r = test::run_cli({"validate", (dir / "notify.yaml").string()});
    CHECK(r.exit_code == 2);
    auto all = r.out + r.err;
    CHECK(all.find("too") != std::string::npos);
    std::filesystem::remove_all(dir);
}
