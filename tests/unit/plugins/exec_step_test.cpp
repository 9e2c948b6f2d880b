// exec: runs only executables inside the plugin directory, JSON in and out, kills overruns.
#include "plugins/exec/exec_step.hpp"

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "engine/core/error.hpp"
#include "tests/support/test_env.hpp"

using namespace artistsaid;
using namespace artistsaid::plugins;
namespace fs = std::filesystem;
using Kind = runtime::StepResult::Kind;

namespace {

struct PluginDir {
    fs::path root = fs::temp_directory_path() / test::unique_name("exec");
    fs::path dir = root / "plugins";
    PluginDir() { fs::create_directories(dir); }
    ~PluginDir() { fs::remove_all(root); }
    void script(const fs::path& path, const std::string& body) {
        std::ofstream(path) << "#!/bin/sh\n" << body;
        fs::permissions(path, fs::perms::owner_all);
    }
};

runtime::StepCall call(nlohmann::json with) {
    runtime::StepCall c;
    c.run_id = "r";
    c.step_id = "s";
    c.idempotency_key = "r:s";
    c.with = std::move(with);
    c.deadline = std::chrono::system_clock::now() + std::chrono::seconds(30);
    return c;
}

}  // namespace

TEST_CASE("Exec.JsonOnStdinJsonOnStdoutWithACleanEnvironment") {
    PluginDir p;
    p.script(p.dir / "greet", "read line\nprintf '{\"stdin\": %s, \"path\": \"%s\", \"home\": \"%s\", \"secret\": \"%s\"}' \"$line\" \"$PATH\" \"$HOME\" \"$ARTISTSAID_SECRET_X\"\n");
    ::setenv("ARTISTSAID_SECRET_X", "leaky", 1);
    ExecStep step(p.dir.string());
    auto r = step.run(call({{"command", "greet"}, {"input", {{"name", "Zoë"}}}}));
    ::unsetenv("ARTISTSAID_SECRET_X");
    REQUIRE_MESSAGE(r.kind == Kind::kSucceeded, r.error);
    auto out = r.outputs["result"];
    CHECK(out["stdin"]["input"]["name"] == "Zoë");
    CHECK(out["stdin"]["idempotency_key"] == "r:s");
    CHECK(out["path"] == "/usr/bin:/bin");
    CHECK(out["home"] == "/nonexistent");
    CHECK(out["secret"] == "");
}

TEST_CASE("Exec.RefusesExecutablesOutsideItsDirectory") {
    PluginDir p;
    p.script(p.root / "outside", "echo '{}'\n");
    fs::create_symlink(p.root / "outside", p.dir / "link");
    fs::create_symlink("/bin/sh", p.dir / "shell");
    std::ofstream(p.dir / "not_executable") << "#!/bin/sh\necho '{}'\n";
    ExecStep step(p.dir.string());
    for (std::string bad : std::vector<std::string>{"../outside", (p.root / "outside").string(), "link", "shell", "sub/../../outside",
                            "not_executable", "missing", ""})
        CHECK_THROWS_AS(step.run(call({{"command", bad}})), InputError);
    ExecStep unconfigured(std::nullopt);
    CHECK_THROWS_AS(unconfigured.run(call({{"command", "x"}})), InputError);
}

TEST_CASE("Exec.KillsTheProcessGroupOfAnOverrun") {
    PluginDir p;
    fs::path pid_file = p.root / "child.pid";
    // The script starts a grandchild that would outlive it, records its pid, and hangs.
    p.script(p.dir / "hang", "sleep 300 &\necho $! > " + pid_file.string() + "\nwait\n");
    ExecStep step(p.dir.string());
    auto r = step.run(call({{"command", "hang"}, {"timeout", "500ms"}}));
    CHECK(r.kind == Kind::kFailed);
    CHECK(r.error.find("timeout") != std::string::npos);
    pid_t grandchild = 0;
    std::ifstream(pid_file) >> grandchild;
    REQUIRE(grandchild > 0);
    // The grandchild was in the group: it is gone (or a zombie reaped by init shortly).
    bool gone = false;
    for (int i = 0; i < 100 && !gone; ++i) {
        std::ifstream stat("/proc/" + std::to_string(grandchild) + "/stat");
        std::string content;
        std::getline(stat, content);
        gone = !stat || content.find(") Z") != std::string::npos;
        if (!gone) ::usleep(20000);
    }
    CHECK(gone);
}

TEST_CASE("Exec.ExitStatusesAndBadOutput") {
    PluginDir p;
    p.script(p.dir / "tempfail", "echo 'try later' >&2\nexit 75\n");
    p.script(p.dir / "fail", "echo 'bad thing' >&2\nexit 3\n");
    p.script(p.dir / "garbage", "echo 'not json'\n");
    p.script(p.dir / "array", "echo '[1,2]'\n");
    ExecStep step(p.dir.string());
    auto r = step.run(call({{"command", "tempfail"}}));
    CHECK(r.kind == Kind::kFailed);
    CHECK(r.retryable);
    CHECK(r.error.find("try later") != std::string::npos);
    r = step.run(call({{"command", "fail"}}));
    CHECK_FALSE(r.retryable);
    CHECK(r.error.find("bad thing") != std::string::npos);
    CHECK(step.run(call({{"command", "garbage"}})).kind == Kind::kFailed);
    CHECK(step.run(call({{"command", "array"}})).kind == Kind::kFailed);
}
