// `artistsaid plugins list` and `artistsaid validate` against the plugins' declared schemas.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
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

TEST_CASE("PluginsCli.ConfigShowListsPluginSettingsWithSecretsRedacted") {
    auto creds = std::filesystem::temp_directory_path() / test::unique_name("creds");
    std::filesystem::create_directories(creds);
    std::ofstream(creds / "S3_SECRET_ACCESS_KEY") << "s3-Secret-From-Credentials-77\n";
    test::CliOptions opts;
    opts.env = {{"ARTISTSAID_SMTP_URL", "smtp://mailer:SmtpUrlPassw0rd@mail.example.test:587"},
                {"ARTISTSAID_SECRET_SMTP_PASSWORD", "Smtp-Secret-Value-1"},
                {"ARTISTSAID_SECRET_TWILIO_AUTH_TOKEN", "twilio-Token-Value-2"},
                {"ARTISTSAID_SECRET_STRIPE_API_KEY", "sk_test_Stripe-Value-3"},
                {"ARTISTSAID_TWILIO_FROM", "+15005550006"},
                {"ARTISTSAID_STORAGE_BACKEND", "s3"},
                {"ARTISTSAID_EXEC_DIR", "/opt/artistsaid/exec"},
                {"CREDENTIALS_DIRECTORY", creds.string()}};
    const std::vector<std::string> secrets = {"SmtpUrlPassw0rd", "Smtp-Secret-Value-1",
                                              "twilio-Token-Value-2", "sk_test_Stripe-Value-3",
                                              "s3-Secret-From-Credentials-77"};

    auto r = test::run_cli({"config", "show"}, opts);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    for (const auto& s : secrets) {
        CHECK_MESSAGE(r.out.find(s) == std::string::npos, s);
        CHECK_MESSAGE(r.err.find(s) == std::string::npos, s);
    }
    CHECK(r.out.find("smtp://mailer:***@mail.example.test:587") != std::string::npos);
    CHECK(r.out.find("+15005550006") != std::string::npos);
    CHECK(r.out.find("/opt/artistsaid/exec") != std::string::npos);

    auto j = test::run_cli({"config", "show", "--json"}, opts);
    REQUIRE_MESSAGE(j.exit_code == 0, j.err);
    for (const auto& s : secrets) CHECK_MESSAGE(j.out.find(s) == std::string::npos, s);
    std::map<std::string, std::pair<std::string, std::string>> plugin;
    const auto doc = nlohmann::json::parse(j.out);
    for (const auto& p : doc["plugins"])
        plugin[p["name"].get<std::string>()] = {p["value"].get<std::string>(), p["source"].get<std::string>()};
    REQUIRE(plugin.size() >= 25);
    CHECK(plugin["ARTISTSAID_SMTP_URL"] ==
          std::make_pair(std::string("smtp://mailer:***@mail.example.test:587"), std::string("env")));
    CHECK(plugin["secret SMTP_PASSWORD"] == std::make_pair(std::string("***"), std::string("env")));
    CHECK(plugin["secret S3_SECRET_ACCESS_KEY"] ==
          std::make_pair(std::string("***"), std::string("credentials")));
    CHECK(plugin["secret PAYPAL_CLIENT_SECRET"] == std::make_pair(std::string(""), std::string("unset")));
    CHECK(plugin["ARTISTSAID_STORAGE_BACKEND"] == std::make_pair(std::string("s3"), std::string("env")));
    CHECK(plugin["ARTISTSAID_S3_REGION"] == std::make_pair(std::string("us-east-1"), std::string("default")));

    auto keys = test::run_cli({"config", "keys"}, opts);
    REQUIRE(keys.exit_code == 0);
    CHECK(keys.out.find("ARTISTSAID_TWILIO_STATUS_CALLBACK") != std::string::npos);
    CHECK(keys.out.find("secret TWILIO_AUTH_TOKEN") != std::string::npos);
    std::filesystem::remove_all(creds);
}

TEST_CASE("PluginsCli.PluginSettingsComeFromTheConfigFileAndTheEnvironmentWins") {
    auto dir = std::filesystem::temp_directory_path() / test::unique_name("plugin_cfg");
    std::filesystem::create_directories(dir);
    auto config = dir / "artistsaid.yaml";
    std::ofstream(config) << "log:\n  level: warn\n"
                             "storage:\n  backend: s3\n  s3_region: eu-west-3\n  s3_bucket: media\n"
                             "email:\n  smtp_url: smtp://mailer:FileSmtpPassw0rd@mail.example.test:587\n"
                             "sms:\n  twilio_from: \"+15005550006\"\n"
                             "gateways:\n  file: /etc/artistsaid/gateways.yaml\n";
    test::CliOptions opts;
    opts.env = {{"ARTISTSAID_STORAGE_BACKEND", "local"}, {"ARTISTSAID_S3_BUCKET", "from-env"}};

    auto j = test::run_cli({"--config", config.string(), "config", "show", "--json"}, opts);
    REQUIRE_MESSAGE(j.exit_code == 0, j.err);
    CHECK(j.out.find("FileSmtpPassw0rd") == std::string::npos);
    CHECK(j.err.find("FileSmtpPassw0rd") == std::string::npos);
    std::map<std::string, std::pair<std::string, std::string>> plugin;
    const auto doc = nlohmann::json::parse(j.out);
    for (const auto& p : doc["plugins"])
        plugin[p["name"].get<std::string>()] = {p["value"].get<std::string>(), p["source"].get<std::string>()};
    using V = std::pair<std::string, std::string>;
    CHECK(plugin["ARTISTSAID_STORAGE_BACKEND"] == V("local", "env"));      // env over file
    CHECK(plugin["ARTISTSAID_S3_BUCKET"] == V("from-env", "env"));         // env over file
    CHECK(plugin["ARTISTSAID_S3_REGION"] == V("eu-west-3", "file"));       // file over default
    CHECK(plugin["ARTISTSAID_TWILIO_FROM"] == V("+15005550006", "file"));
    CHECK(plugin["ARTISTSAID_SMTP_URL"] == V("smtp://mailer:***@mail.example.test:587", "file"));
    CHECK(plugin["ARTISTSAID_GATEWAYS_FILE"] == V("/etc/artistsaid/gateways.yaml", "file"));
    CHECK(plugin["ARTISTSAID_SMTP_TLS"] == V("if_offered", "default"));
    // The engine's own table is unchanged by the plugin keys.
    for (const auto& s : doc["settings"]) CHECK(s["key"].get<std::string>().rfind("storage.", 0) != 0);

    auto text = test::run_cli({"--config", config.string(), "config", "show"}, opts);
    REQUIRE(text.exit_code == 0);
    CHECK(text.out.find("FileSmtpPassw0rd") == std::string::npos);
    CHECK(text.out.find("eu-west-3") != std::string::npos);

    auto keys = test::run_cli({"config", "keys"});
    REQUIRE(keys.exit_code == 0);
    for (const char* k : {"storage.backend", "storage.dir", "email.smtp_url", "sms.twilio_from",
                          "exec.dir", "gateways.file"})
        CHECK_MESSAGE(keys.out.find(k) != std::string::npos, k);

    // A misspelt plugin key is refused with file:line:column and a hint.
    std::ofstream(config) << "storage:\n  bakend: s3\n";
    auto bad = test::run_cli({"--config", config.string(), "config", "show"}, opts);
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find("unknown setting 'storage.bakend'") != std::string::npos);
    CHECK(bad.err.find("storage.backend") != std::string::npos);
    CHECK(bad.err.find(":2:") != std::string::npos);
    std::filesystem::remove_all(dir);
}
