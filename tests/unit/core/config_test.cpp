#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/core/config.hpp"
#include "engine/core/error.hpp"

using namespace artistsaid;

namespace {

// A config file in the temp dir, removed when the test ends.
struct TempConfigFile {
    explicit TempConfigFile(const std::string& text)
        : path(std::filesystem::temp_directory_path() /
               ("aa_config_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) +
                ".yaml")) {
        std::ofstream(path) << text;
    }
    ~TempConfigFile() { std::filesystem::remove(path); }
    std::filesystem::path path;
    static inline int counter = 0;
};

}  // namespace

TEST_CASE("Config.Precedence.FlagOverEnvOverFileOverDefault") {
    TempConfigFile file(
        "database_url: postgresql://file@db-file/app\n"
        "redis_url: redis://redis-file:6379/0\n"
        "log:\n  level: debug\n  format: json\n");
    ConfigInputs in;
    in.file = file.path.string();
    in.env = {{"ARTISTSAID_REDIS_URL", "redis://redis-env:6379/1"},
              {"ARTISTSAID_LOG_LEVEL", "warn"}};
    in.flags = {{"log.level", "error"}};
    Config c = Config::load(in);

    CHECK(c.database_url() == "postgresql://file@db-file/app");
    CHECK(c.source("database_url") == ConfigSource::kFile);
    CHECK(c.redis_url() == "redis://redis-env:6379/1");
    CHECK(c.source("redis_url") == ConfigSource::kEnv);
    CHECK(c.get("log.level") == "error");
    CHECK(c.source("log.level") == ConfigSource::kFlag);
    CHECK(c.get("log.format") == "json");
    CHECK(c.get("queue.prefix") == "artistsaid");
    CHECK(c.source("queue.prefix") == ConfigSource::kDefault);
    CHECK(c.duration("connect_timeout") == std::chrono::seconds(5));
}

TEST_CASE("Config.File.FromEnvironmentVariable") {
    TempConfigFile file("queue:\n  prefix: tenant42\n");
    ConfigInputs in;
    in.env = {{"ARTISTSAID_CONFIG", file.path.string()}};
    Config c = Config::load(in);
    CHECK(c.get("queue.prefix") == "tenant42");
    CHECK(c.file() == file.path.string());
}

TEST_CASE("Config.File.UnknownKeyNamesLineColumnAndSuggests") {
    TempConfigFile file("log:\n  level: info\n  formt: json\n");
    ConfigInputs in;
    in.file = file.path.string();
    try {
        Config::load(in);
        FAIL("expected an InputError");
    } catch (const InputError& e) {
        std::string message = e.what();
        CHECK(message.find(file.path.string() + ":3:3:") == 0);
        CHECK(message.find("unknown setting 'log.formt'") != std::string::npos);
        CHECK(message.find("did you mean 'log.format'") != std::string::npos);
        CHECK(e.exit_code() == ExitCode::kBadInput);
    }
}

TEST_CASE("Config.BadValuesAreRefusedWithoutEchoingThem") {
    ConfigInputs in;
    in.env = {{"ARTISTSAID_DATABASE_URL", "mysql://root:hunter22@db/app"}};
    try {
        Config::load(in);
        FAIL("expected an InputError");
    } catch (const InputError& e) {
        std::string message = e.what();
        CHECK(message.find("ARTISTSAID_DATABASE_URL") != std::string::npos);
        CHECK(message.find("hunter22") == std::string::npos);
    }
    ConfigInputs level;
    level.flags = {{"log.level", "loud"}};
    CHECK_THROWS_AS(Config::load(level), InputError);
    ConfigInputs timeout;
    timeout.env = {{"ARTISTSAID_CONNECT_TIMEOUT", "soon"}};
    CHECK_THROWS_AS(Config::load(timeout), InputError);
    ConfigInputs missing;
    missing.file = "/nonexistent/artistsaid.yaml";
    CHECK_THROWS_AS(Config::load(missing), InputError);
    TempConfigFile broken("log: [unclosed\n");
    ConfigInputs syntax;
    syntax.file = broken.path.string();
    CHECK_THROWS_AS(Config::load(syntax), InputError);
}

TEST_CASE("Config.Secrets.AreRedactedInShowAndJson") {
    ConfigInputs in;
    in.env = {{"ARTISTSAID_DATABASE_URL",
               "postgresql://billing:pg-s3cret@db:5432/app?sslpassword=key-s3cret"},
              {"ARTISTSAID_REDIS_URL", "redis://:redis-s3cret@cache:6379/0"}};
    Config c = Config::load(in);
    CHECK(c.shown("database_url") == "postgresql://billing:***@db:5432/app?sslpassword=***");
    CHECK(c.shown("redis_url") == "redis://:***@cache:6379/0");
    std::string json = c.to_json().dump();
    CHECK(json.find("s3cret") == std::string::npos);
    auto secrets = c.secret_values();
    CHECK(std::find(secrets.begin(), secrets.end(), "pg-s3cret") != secrets.end());
    CHECK(std::find(secrets.begin(), secrets.end(), "key-s3cret") != secrets.end());
    CHECK(std::find(secrets.begin(), secrets.end(), "redis-s3cret") != secrets.end());
}

TEST_CASE("Config.RedactUrl.LeavesUrlsWithoutPasswordsAlone") {
    CHECK(redact_url("postgresql://postgres@127.0.0.1:5432/postgres") ==
          "postgresql://postgres@127.0.0.1:5432/postgres");
    CHECK(redact_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0");
    CHECK(redact_url("postgresql://u:p%40ss@h/db") == "postgresql://u:***@h/db");
}

TEST_CASE("Config.ExtraKeys.FileAndEnvironmentWithTheSamePrecedence") {
    const std::vector<ConfigKey> extra = {
        {"storage.backend", "ARTISTSAID_STORAGE_BACKEND", "local", ConfigKind::kString, false, "", "b"},
        {"storage.s3_region", "ARTISTSAID_S3_REGION", "us-east-1", ConfigKind::kString, false, "", "r"},
        {"storage.dir", "ARTISTSAID_STORAGE_DIR", "", ConfigKind::kString, false, "", "d"},
        {"email.smtp_url", "ARTISTSAID_SMTP_URL", "", ConfigKind::kExternalUrl, false, "", "u"},
    };
    TempConfigFile file("storage:\n  backend: s3\n  s3_region: eu-west-3\n"
                        "email:\n  smtp_url: smtp://u:FilePw@mail.test:587\n");
    ConfigInputs in;
    in.file = file.path.string();
    in.env = {{"ARTISTSAID_STORAGE_BACKEND", "local"}};
    in.extra_keys = extra;
    Config c = Config::load(in);
    CHECK(c.get("storage.backend") == "local");
    CHECK(c.source("storage.backend") == ConfigSource::kEnv);
    CHECK(c.get("storage.s3_region") == "eu-west-3");
    CHECK(c.source("storage.s3_region") == ConfigSource::kFile);
    CHECK(c.source("storage.dir") == ConfigSource::kDefault);
    CHECK(c.shown("email.smtp_url") == "smtp://u:***@mail.test:587");
    auto secrets = c.secret_values();
    CHECK(std::find(secrets.begin(), secrets.end(), "FilePw") != secrets.end());
    REQUIRE(c.extra_entries().size() == extra.size());
    CHECK(c.extra_entries()[1].key == "storage.s3_region");
    // Kept apart from the engine's own settings.
    for (const auto& e : c.entries()) CHECK(e.key.rfind("storage.", 0) != 0);
    CHECK(c.to_json().dump().find("storage.") == std::string::npos);

    // Without the extra keys the same file is refused.
    ConfigInputs plain;
    plain.file = file.path.string();
    CHECK_THROWS_AS(Config::load(plain), InputError);
    // A key declared twice is a bug.
    ConfigInputs twice = in;
    twice.extra_keys.push_back({"queue.prefix", "X", "", ConfigKind::kString, false, "", ""});
    CHECK_THROWS_AS(Config::load(twice), Error);
}
