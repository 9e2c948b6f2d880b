// email.send against a real SMTP server on loopback (aiosmtpd, tests/support/servers/
// smtp_test_server.py), which parses what it received with Python's email package.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "plugins/email/email_send_step.hpp"
#include "tests/integration/plugins/plugin_test_support.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/local_server.hpp"

using namespace artistsaid;
using namespace artistsaid::plugins;
using namespace std::chrono_literals;

namespace {

std::vector<nlohmann::json> received(const test::LocalServer& server) {
    std::vector<nlohmann::json> out;
    std::string text = server.output();
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);)
        if (line.rfind("RECEIVED ", 0) == 0) out.push_back(nlohmann::json::parse(line.substr(9)));
    return out;
}

std::map<std::string, std::string> env_for(const test::TempDatabase& db, const std::string& smtp_url) {
    return {{"ARTISTSAID_SMTP_URL", smtp_url},
            {"ARTISTSAID_DATABASE_URL", db.url()},
            {"ARTISTSAID_EMAIL_FROM", "billing@artistsaid.example"},
            {"ARTISTSAID_EMAIL_FROM_NAME", "ArtistsAid Büro"},
            {"ARTISTSAID_EMAIL_TEMPLATES_DIR", test::source_dir() + "/tests/fixtures/email_templates"}};
}

nlohmann::json welcome(const std::string& locale = "en") {
    return {{"to", "zoe@example.org"},
            {"to_name", "Zoë Ångström"},
            {"template", "welcome"},
            {"locale", locale},
            {"data", {{"client", {{"name", "Zoë <Studio> & Co"}}}, {"plan", {{"name", "Gallery"}, {"price", "9.00 EUR"}}}}}};
}

std::string smtp_url(const test::LocalServer& s) { return "smtp://127.0.0.1:" + std::to_string(s.port()); }

}  // namespace

TEST_CASE("EmailSend.SmtpMessageParsesWithBothPartsEncodedHeadersAndEscapedHtml") {
    auto db = test::migrated_database();
    test::LocalServer smtp("smtp_test_server.py");
    EmailSendStep step(PluginEnvironment(env_for(*db, smtp_url(smtp))));
    auto with = welcome();
    with["category"] = "marketing";
    with["unsubscribe_url"] = "https://artistsaid.example/unsubscribe?c=42";
    auto result = step.run(test::step_call(with));
    REQUIRE_MESSAGE(result.kind == runtime::StepResult::Kind::kSucceeded, result.error);
    CHECK(result.outputs["status"] == "sent");
    CHECK(result.outputs["transport"] == "smtp");
    REQUIRE(test::eventually([&] { return received(smtp).size() == 1; }, 10s));
    auto m = received(smtp).front();
    CAPTURE(m.dump(2));
    CHECK(m["mail_from"] == "billing@artistsaid.example");
    CHECK(m["rcpt_tos"] == nlohmann::json::array({"zoe@example.org"}));
    CHECK(m["subject"] == "Welcome, Zoë <Studio> & Co");
    CHECK(m["subject_raw"].get<std::string>().find("=?UTF-8?B?") != std::string::npos);
    CHECK(m["from"] == "ArtistsAid Büro <billing@artistsaid.example>");
    CHECK(m["to"] == "Zoë Ångström <zoe@example.org>");
    CHECK(m["message_id"] == "<" + result.outputs["message_id"].get<std::string>() + ">");
    CHECK(std::regex_match(m["date"].get<std::string>(),
                           std::regex(R"([A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000)")));
    CHECK(m["list_unsubscribe"] == "<https://artistsaid.example/unsubscribe?c=42>");
    CHECK(m["list_unsubscribe_post"] == "List-Unsubscribe=One-Click");
    CHECK(m["mime_version"] == "1.0");
    CHECK(m["content_type"] == "multipart/alternative");
    CHECK(m["defects"].empty());
    REQUIRE(m["parts"].size() == 2);
    CHECK(m["parts"][0]["content_type"] == "text/plain");
    CHECK(m["parts"][0]["charset"] == "utf-8");
    CHECK(m["parts"][0]["content"] ==
          "Hello Zoë <Studio> & Co,\n\nYour plan: Gallery (9.00 EUR).\n.\nA line with a single dot above.\n");
    CHECK(m["parts"][1]["content_type"] == "text/html");
    CHECK(m["parts"][1]["content"] ==
          "<p>Hello <b>Zoë &lt;Studio&gt; &amp; Co</b>,</p>\n<p>Your plan: Gallery</p>\n");
}

TEST_CASE("EmailSend.LocaleVariantAndTextOnlyMail") {
    auto db = test::migrated_database();
    test::LocalServer smtp("smtp_test_server.py");
    EmailSendStep step(PluginEnvironment(env_for(*db, smtp_url(smtp))));
    auto result = step.run(test::step_call(welcome("de-AT")));
    REQUIRE_MESSAGE(result.kind == runtime::StepResult::Kind::kSucceeded, result.error);
    REQUIRE(test::eventually([&] { return received(smtp).size() == 1; }, 10s));
    auto m = received(smtp).front();
    CHECK(m["subject"] == "Willkommen, Zoë <Studio> & Co — Ihr Konto ist bereit ✓");
    CHECK(m["content_type"] == "text/plain");  // no body.de.html
    CHECK(m["list_unsubscribe"].is_null());
    CHECK(m["parts"][0]["content"].get<std::string>().find("Ihr Plan: Gallery") != std::string::npos);
}

TEST_CASE("EmailSend.SameIdempotencyKeyIsNotSentTwice") {
    auto db = test::migrated_database();
    test::LocalServer smtp("smtp_test_server.py");
    EmailSendStep step(PluginEnvironment(env_for(*db, smtp_url(smtp))));
    auto call = test::step_call(welcome());
    auto first = step.run(call);
    REQUIRE_MESSAGE(first.kind == runtime::StepResult::Kind::kSucceeded, first.error);
    call.attempt = 2;
    auto second = step.run(call);
    REQUIRE_MESSAGE(second.kind == runtime::StepResult::Kind::kSucceeded, second.error);
    CHECK(second.outputs["status"] == "already_sent");
    CHECK(second.outputs["message_id"] == first.outputs["message_id"]);
    // A different key is a different send.
    auto third = step.run(test::step_call(welcome()));
    CHECK(third.outputs["status"] == "sent");
    REQUIRE(test::eventually([&] { return received(smtp).size() == 2; }, 10s));
    CHECK(test::count_rows(db->url(), "SELECT count(*) FROM step_effects WHERE kind = 'email' AND status = 'succeeded'") == 2);
}

TEST_CASE("EmailSend.StartTlsAndAuthWhenRequired") {
    auto db = test::migrated_database();
    auto tls_dir = std::filesystem::temp_directory_path() / test::unique_name("smtp_tls");
    test::LocalServer smtp("smtp_test_server.py",
                           {"--tls-dir", tls_dir.string(), "--require-starttls", "--auth", "mailer:s3cret-pw"});
    auto env = env_for(*db, smtp_url(smtp));
    env["ARTISTSAID_SMTP_TLS"] = "required";
    env["ARTISTSAID_SMTP_CA_FILE"] = (tls_dir / "cert.pem").string();
    env["ARTISTSAID_SMTP_USERNAME"] = "mailer";
    env["ARTISTSAID_SECRET_SMTP_PASSWORD"] = "s3cret-pw";
    EmailSendStep step{PluginEnvironment(env)};
    auto result = step.run(test::step_call(welcome()));
    REQUIRE_MESSAGE(result.kind == runtime::StepResult::Kind::kSucceeded, result.error);
    REQUIRE(test::eventually([&] { return received(smtp).size() == 1; }, 10s));
    auto m = received(smtp).front();
    CHECK(m["tls"] == true);
    CHECK(m["authenticated"] == true);

    SUBCASE("the server's certificate is verified: without its CA nothing is sent") {
        auto untrusted = env;
        untrusted.erase("ARTISTSAID_SMTP_CA_FILE");
        EmailSendStep bad{PluginEnvironment(untrusted)};
        auto r = bad.run(test::step_call(welcome()));
        CHECK(r.kind == runtime::StepResult::Kind::kFailed);
        CHECK(received(smtp).size() == 1);
    }
    SUBCASE("if_offered uses STARTTLS when the server offers it") {
        env["ARTISTSAID_SMTP_TLS"] = "if_offered";
        EmailSendStep offered{PluginEnvironment(env)};
        auto r = offered.run(test::step_call(welcome()));
        REQUIRE_MESSAGE(r.kind == runtime::StepResult::Kind::kSucceeded, r.error);
        REQUIRE(test::eventually([&] { return received(smtp).size() == 2; }, 10s));
        CHECK(received(smtp).back()["tls"] == true);
    }
    SUBCASE("a wrong password is refused for good, and the error does not show it") {
        env["ARTISTSAID_SECRET_SMTP_PASSWORD"] = "wrong-password";
        EmailSendStep bad{PluginEnvironment(env)};
        auto r = bad.run(test::step_call(welcome()));
        CAPTURE(r.error);
        CHECK(r.kind == runtime::StepResult::Kind::kFailed);
        CHECK_FALSE(r.retryable);
        CHECK(r.error.find("wrong-password") == std::string::npos);
    }
    std::filesystem::remove_all(tls_dir);
}

TEST_CASE("EmailSend.RequiredTlsFailsWhenTheServerDoesNotOfferStartTls") {
    auto db = test::migrated_database();
    test::LocalServer smtp("smtp_test_server.py");
    auto env = env_for(*db, smtp_url(smtp));
    env["ARTISTSAID_SMTP_TLS"] = "required";
    EmailSendStep step{PluginEnvironment(env)};
    auto call = test::step_call(welcome());
    auto r = step.run(call);
    CHECK(r.kind == runtime::StepResult::Kind::kFailed);
    CHECK(received(smtp).empty());
    // Nothing was sent, so nothing is recorded: a later attempt may send.
    CHECK(test::count_rows(db->url(), "SELECT count(*) FROM step_effects") == 0);
}

TEST_CASE("EmailSend.RecipientRefusals") {
    auto db = test::migrated_database();
    test::LocalServer smtp("smtp_test_server.py",
                           {"--reject-domain", "gone.example", "--tempfail-domain", "busy.example"});
    EmailSendStep step(PluginEnvironment(env_for(*db, smtp_url(smtp))));
    auto with = welcome();
    with["to"] = "someone@gone.example";
    auto r = step.run(test::step_call(with));
    CHECK(r.kind == runtime::StepResult::Kind::kFailed);
    CHECK_FALSE(r.retryable);
    CHECK(r.error.find("550") != std::string::npos);
    with["to"] = "someone@busy.example";
    r = step.run(test::step_call(with));
    CHECK(r.kind == runtime::StepResult::Kind::kFailed);
    CHECK(r.retryable);
    CHECK(received(smtp).empty());
    CHECK(test::count_rows(db->url(), "SELECT count(*) FROM step_effects") == 0);
}

TEST_CASE("EmailSend.BadInputChangesNothing") {
    auto db = test::migrated_database();
    test::LocalServer smtp("smtp_test_server.py");
    EmailSendStep step(PluginEnvironment(env_for(*db, smtp_url(smtp))));
    auto missing = welcome();
    missing["data"].erase("plan");
    try {
        step.run(test::step_call(missing));
        FAIL("rendered with a missing variable");
    } catch (const InputError& e) {
        CHECK(std::string(e.what()).find("plan.name") != std::string::npos);
        CHECK(std::string(e.what()).find("welcome/body.en.txt:3") != std::string::npos);
    }
    auto injected = welcome();
    injected["template"] = nullptr;
    injected["subject"] = "Hi\r\nBcc: victim@example.org";
    injected["text"] = "x";
    CHECK_THROWS_AS(step.run(test::step_call(injected)), InputError);
    auto marketing = welcome();
    marketing["category"] = "marketing";
    CHECK_THROWS_AS(step.run(test::step_call(marketing)), InputError);  // no unsubscribe_url
    auto bad_to = welcome();
    bad_to["to"] = "not an address";
    CHECK_THROWS_AS(step.run(test::step_call(bad_to)), InputError);
    auto unknown = welcome();
    unknown["template"] = "nope";
    CHECK_THROWS_AS(step.run(test::step_call(unknown)), InputError);
    CHECK(received(smtp).empty());
    CHECK(test::count_rows(db->url(), "SELECT count(*) FROM step_effects") == 0);
}

TEST_CASE("EmailSend.OutboxSinkWritesParseableEmlFilesOnce") {
    auto dir = std::filesystem::temp_directory_path() / test::unique_name("outbox");
    EmailSendStep step(PluginEnvironment(
        {{"ARTISTSAID_EMAIL_OUTBOX_DIR", dir.string()},
         {"ARTISTSAID_EMAIL_FROM", "billing@artistsaid.example"},
         {"ARTISTSAID_EMAIL_TEMPLATES_DIR", test::source_dir() + "/tests/fixtures/email_templates"}}));
    auto call = test::step_call(welcome());
    auto r = step.run(call);
    REQUIRE_MESSAGE(r.kind == runtime::StepResult::Kind::kSucceeded, r.error);
    CHECK(r.outputs["transport"] == "outbox");
    std::string file = r.outputs["detail"];
    REQUIRE(std::filesystem::exists(file));
    auto written = std::filesystem::last_write_time(file);
    CHECK(step.run(call).outputs["detail"] == file);
    CHECK(std::filesystem::last_write_time(file) == written);
    int files = 0;
    for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir)) ++files;
    CHECK(files == 1);
    // Python's email package reads it back.
    test::ChildProcess parse("/usr/bin/python3",
                             {"-c",
                              "import email,email.policy,sys;m=email.message_from_binary_file(open(sys.argv[1],'rb'),"
                              "policy=email.policy.default);print(m['Subject']);"
                              "print(m.get_body(('html',)).get_content().strip())",
                              file});
    REQUIRE(parse.wait(30s) == 0);
    CHECK(parse.output() == "Welcome, Zoë <Studio> & Co\n<p>Hello <b>Zoë &lt;Studio&gt; &amp; Co</b>,</p>\n<p>Your plan: Gallery</p>\n");
    std::filesystem::remove_all(dir);
}

TEST_CASE("EmailSend.ConcurrentAttemptsOfOneKeySendOnce") {
    auto db = test::migrated_database();
    test::LocalServer smtp("smtp_test_server.py");
    EmailSendStep step(PluginEnvironment(env_for(*db, smtp_url(smtp))));
    for (int n : {2, 8}) {
        CAPTURE(n);
        auto call = test::step_call(welcome());
        std::vector<runtime::StepResult> results(static_cast<std::size_t>(n));
        std::vector<std::thread> threads;
        for (int i = 0; i < n; ++i)
            threads.emplace_back([&, i] { results[static_cast<std::size_t>(i)] = step.run(call); });
        for (auto& t : threads) t.join();
        int sent = 0, already = 0;
        for (auto& r : results) {
            REQUIRE_MESSAGE(r.kind == runtime::StepResult::Kind::kSucceeded, r.error);
            sent += r.outputs["status"] == "sent";
            already += r.outputs["status"] == "already_sent";
        }
        CHECK(sent == 1);
        CHECK(already == n - 1);
    }
    REQUIRE(test::eventually([&] { return received(smtp).size() == 2; }, 10s));
    CHECK(received(smtp).size() == 2);  // one per key, whatever the number of attempts
}

TEST_CASE("EmailSend.UnknownOutcomeIsRecordedAndNotSentAgain") {
    // The server takes the whole message and never confirms it: the mail may or may not be
    // delivered. The attempt fails for good and a later attempt does not send again.
    auto db = test::migrated_database();
    test::LocalServer smtp("smtp_test_server.py", {"--hang-after-data"});
    EmailSendStep step(PluginEnvironment(env_for(*db, smtp_url(smtp))));
    auto call = test::step_call(welcome(), test::unique_name("run:mail"), std::chrono::seconds(2));
    auto r = step.run(call);
    CHECK(r.kind == runtime::StepResult::Kind::kFailed);
    CHECK_FALSE(r.retryable);
    REQUIRE(test::eventually([&] { return received(smtp).size() == 1; }, 10s));
    call.attempt = 2;
    call.deadline = std::chrono::system_clock::now() + 30s;
    r = step.run(call);
    CHECK(r.kind == runtime::StepResult::Kind::kFailed);
    CHECK_FALSE(r.retryable);
    CHECK(r.error.find("outcome is unknown") != std::string::npos);
    CHECK(received(smtp).size() == 1);
    CHECK(test::count_rows(db->url(), "SELECT count(*) FROM step_effects WHERE status = 'started' "
                                      "AND result->>'outcome' = 'unknown'") == 1);
}
