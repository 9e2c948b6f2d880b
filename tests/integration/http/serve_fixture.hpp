// `artistsaid serve` as a child process on a free loopback port, with its own database,
// Redis prefix and workflows directory; helpers to make API keys and to sign webhooks
// with the `openssl` command line (an implementation independent of the server's).
#pragma once

#include <doctest/doctest.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <string>

#include "engine/store/migrator.hpp"
#include "tests/integration/http/http_client.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/cli_runner.hpp"
#include "tests/support/redis_guard.hpp"
#include "tests/support/shell.hpp"
#include "tests/support/temp_database.hpp"
#include "tests/support/test_env.hpp"

namespace artistsaid::test {

namespace fs = std::filesystem;

/// Runs a shell command and returns its stdout (fails the test on a non-zero exit).
inline std::string shell(const std::string& command) {
    auto r = run_shell(command);
    INFO("command: " << command);
    REQUIRE(r.status == 0);
    return r.out;
}

/// application/x-www-form-urlencoded as Twilio sends it (unreserved kept, the rest %XX;
/// with `space_as_plus`, a space as '+', which the server must decode too).
inline std::string twilio_form(const std::vector<std::pair<std::string, std::string>>& params,
                               bool space_as_plus = false) {
    auto encode = [space_as_plus](const std::string& s) {
        std::string out;
        for (unsigned char c : s) {
            if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
                out.push_back(static_cast<char>(c));
            } else if (c == ' ' && space_as_plus) {
                out.push_back('+');
            } else {
                char buf[4];
                std::snprintf(buf, sizeof buf, "%%%02X", c);
                out += buf;
            }
        }
        return out;
    };
    std::string body;
    for (const auto& [k, v] : params) body += (body.empty() ? "" : "&") + encode(k) + "=" + encode(v);
    return body;
}

/// HMAC of `data` under `key` computed by `openssl dgst`: hex, or base64 with `base64`.
inline std::string openssl_hmac(const std::string& digest, const std::string& key,
                                const std::string& data, bool base64 = false) {
    fs::path file = fs::temp_directory_path() / unique_name("aa_sign");
    std::ofstream(file, std::ios::binary) << data;
    std::string out;
    if (base64)
        out = shell("openssl dgst -" + digest + " -hmac '" + key + "' -binary " + file.string() +
                    " | openssl base64 -A");
    else
        out = shell("openssl dgst -" + digest + " -hmac '" + key + "' -r " + file.string());
    fs::remove(file);
    if (!base64) out = out.substr(0, out.find(' '));
    return out;
}

/// Hex SHA-256 of `data` by the openssl command line.
inline std::string openssl_sha256(const std::string& data) {
    fs::path file = fs::temp_directory_path() / unique_name("aa_digest");
    std::ofstream(file, std::ios::binary) << data;
    std::string out = shell("openssl dgst -sha256 -r " + file.string());
    fs::remove(file);
    return out.substr(0, out.find(' '));
}

inline long long unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

struct ServeFixture {
    TempDatabase db;
    RedisPrefixGuard guard;
    fs::path dir = fs::temp_directory_path() / unique_name("aa_serve");
    std::map<std::string, std::string> env;
    std::unique_ptr<ChildProcess> server;
    int port = 0;

    ServeFixture() {
        store::Migrator(db.url(), fs::path(source_dir()) / "migrations").up();
        fs::create_directories(dir);
        env = {{"ARTISTSAID_DATABASE_URL", db.url()},
               {"ARTISTSAID_REDIS_URL", redis_url()},
               {"ARTISTSAID_QUEUE_PREFIX", guard.prefix()},
               {"ARTISTSAID_WORKFLOWS_DIR", dir.string()},
               {"ARTISTSAID_LOG_FORMAT", "text"}};
    }
    ~ServeFixture() {
        server.reset();
        fs::remove_all(dir);
    }

    /// Starts the server with the fixture's env plus `extra`; waits until it listens.
    void start(const std::map<std::string, std::string>& extra = {}) {
        auto e = env;
        for (const auto& [k, v] : extra) e[k] = v;
        server = std::make_unique<ChildProcess>(cli_binary(),
                                                std::vector<std::string>{"serve", "--listen", "127.0.0.1:0"}, e);
        const std::string marker = "listening on http://127.0.0.1:";
        bool up = eventually(
            [&] { return server->output().find(marker) != std::string::npos || !server->running(); },
            std::chrono::seconds(30));
        INFO("server output: " << server->output());
        REQUIRE(up);
        auto out = server->output();
        auto at = out.find(marker);
        REQUIRE(at != std::string::npos);
        port = std::stoi(out.substr(at + marker.size()));
        REQUIRE(port > 0);
    }

    CliOptions cli_options() const {
        CliOptions o;
        o.env = env;
        return o;
    }

    /// A new API key of `role` (via `artistsaid apikeys create`): {id, key}.
    std::pair<long long, std::string> create_key(const std::string& role) const {
        auto r = run_cli({"apikeys", "create", "--json", "--role", role, "--name", "test " + role},
                         cli_options());
        INFO("stdout: " << r.out << "\nstderr: " << r.err);
        REQUIRE(r.exit_code == 0);
        auto j = nlohmann::json::parse(r.out);
        return {j["id"].get<long long>(), j["key"].get<std::string>()};
    }

    void workflow(const std::string& name, const std::string& yaml) const {
        std::ofstream(dir / (name + ".yaml")) << yaml;
    }

    long long scalar(const std::string& sql) const {
        pqxx::connection c(db.url());
        pqxx::read_transaction tx(c);
        return tx.exec1(sql)[0].as<long long>();
    }

    HttpReply get(const std::string& target, const std::string& key = {}) const {
        std::vector<std::pair<std::string, std::string>> h;
        if (!key.empty()) h.emplace_back("Authorization", "Bearer " + key);
        return http_request(port, "GET", target, h);
    }
    HttpReply post(const std::string& target, const std::string& body, const std::string& key = {},
                   std::vector<std::pair<std::string, std::string>> h = {}) const {
        if (!key.empty()) h.emplace_back("Authorization", "Bearer " + key);
        if (!body.empty()) h.emplace_back("Content-Type", "application/json");
        return http_request(port, "POST", target, h, body);
    }
};

}  // namespace artistsaid::test
