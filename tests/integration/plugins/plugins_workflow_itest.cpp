// The plugins inside real runs: `artistsaid run --wait` with a real `artistsaid worker`, a
// workflow chaining storage.put → storage.get → email.send (outbox) → exec, the outputs of
// one step feeding the next through `${{ }}`.
#include <doctest/doctest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/store/migrator.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/cli_runner.hpp"
#include "tests/support/redis_guard.hpp"
#include "tests/support/temp_database.hpp"
#include "tests/support/test_env.hpp"

using namespace artistsaid;
namespace fs = std::filesystem;

namespace {

const char* kTour = R"yaml(
name: plugin-tour
version: 1
inputs:
  client: { type: string, required: true }
steps:
  - id: store
    uses: storage.put
    with: { key: "receipts/${{ inputs.client }}.txt", content: "Gallery plan", content_type: text/plain }
  - id: read
    needs: [store]
    uses: storage.get
    with: { key: "receipts/${{ inputs.client }}.txt" }
  - id: mail
    needs: [read]
    uses: email.send
    with:
      to: zoe@example.org
      template: welcome
      data:
        client: { name: "${{ inputs.client }}" }
        plan: { name: "${{ steps.read.outputs.content }}", price: "9 EUR" }
  - id: script
    needs: [mail]
    uses: exec
    with: { command: echo-input, input: { sha: "${{ steps.store.outputs.sha256 }}", mail: "${{ steps.mail.outputs.status }}" } }
)yaml";

// The step object with this id anywhere in `doc`.
const nlohmann::json* find_step(const nlohmann::json& doc, const std::string& id) {
    if (doc.is_object()) {
        if (doc.contains("step") && doc["step"] == id && doc.contains("outputs")) return &doc;
        for (auto& [k, v] : doc.items())
            if (auto* f = find_step(v, id)) return f;
    } else if (doc.is_array()) {
        for (auto& v : doc)
            if (auto* f = find_step(v, id)) return f;
    }
    return nullptr;
}

}  // namespace

TEST_CASE("PluginsWorkflow.StepsRunInsideARealRunAndChainTheirOutputs") {
    test::TempDatabase db;
    test::RedisPrefixGuard guard;
    fs::path root = fs::temp_directory_path() / test::unique_name("aa_plugins");
    fs::create_directories(root / "workflows");
    fs::create_directories(root / "exec");
    std::ofstream(root / "workflows" / "tour.yaml") << kTour;
    std::ofstream(root / "exec" / "echo-input") << "#!/bin/sh\nread line\nprintf '{\"got\": %s}' \"$line\"\n";
    fs::permissions(root / "exec" / "echo-input", fs::perms::owner_all);
    test::CliOptions opts;
    opts.env = {{"ARTISTSAID_DATABASE_URL", db.url()},
                {"ARTISTSAID_REDIS_URL", test::redis_url()},
                {"ARTISTSAID_QUEUE_PREFIX", guard.prefix()},
                {"ARTISTSAID_WORKFLOWS_DIR", (root / "workflows").string()},
                {"ARTISTSAID_LOG_FORMAT", "text"},
                {"ARTISTSAID_STORAGE_DIR", (root / "storage").string()},
                {"ARTISTSAID_EMAIL_OUTBOX_DIR", (root / "outbox").string()},
                {"ARTISTSAID_EMAIL_FROM", "hello@artistsaid.example"},
                {"ARTISTSAID_EMAIL_TEMPLATES_DIR", test::source_dir() + "/tests/fixtures/email_templates"},
                {"ARTISTSAID_EXEC_DIR", (root / "exec").string()}};
    REQUIRE(test::run_cli({"migrate", "up"}, opts).exit_code == 0);
    auto valid = test::run_cli({"validate", (root / "workflows" / "tour.yaml").string()}, opts);
    INFO(valid.out << valid.err);
    REQUIRE(valid.exit_code == 0);
    test::ChildProcess worker(test::cli_binary(), {"worker"}, opts.env);

    auto run = test::run_cli({"run", "plugin-tour", "--input", "client=ada", "--wait", "--timeout", "60s"}, opts);
    INFO(run.out << run.err << worker.output());
    REQUIRE(run.exit_code == 0);

    auto list = nlohmann::json::parse(test::run_cli({"runs", "list", "--json"}, opts).out);
    REQUIRE(list.size() == 1);
    auto show = test::run_cli({"runs", "show", list[0]["id"], "--json"}, opts);
    REQUIRE(show.exit_code == 0);
    auto doc = nlohmann::json::parse(show.out);
    auto* mail = find_step(doc, "mail");
    auto* script = find_step(doc, "script");
    auto* store = find_step(doc, "store");
    REQUIRE(mail);
    REQUIRE(script);
    REQUIRE(store);
    CHECK((*mail)["outputs"]["status"] == "sent");
    CHECK((*mail)["outputs"]["transport"] == "outbox");
    CHECK((*script)["outputs"]["result"]["got"]["input"]["sha"] == (*store)["outputs"]["sha256"]);
    CHECK((*script)["outputs"]["result"]["got"]["input"]["mail"] == "sent");
    CHECK(fs::exists(root / "storage" / "receipts" / "ada.txt"));
    int emails = 0;
    for ([[maybe_unused]] auto& e : fs::directory_iterator(root / "outbox")) ++emails;
    CHECK(emails == 1);
    worker.signal(SIGTERM);
    worker.wait(std::chrono::seconds(30));
    fs::remove_all(root);
}
