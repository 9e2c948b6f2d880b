// sms.send against a local fake of Twilio's Messages API that refuses what Twilio refuses
// (tests/support/servers/twilio_test_server.py).
#include <doctest/doctest.h>

#include "plugins/sms/sms_send_step.hpp"
#include "tests/integration/plugins/plugin_test_support.hpp"
#include "tests/support/local_server.hpp"

using namespace artistsaid;
using namespace artistsaid::plugins;
using Kind = runtime::StepResult::Kind;

namespace {

const std::string kSid = "AC0123456789abcdef0123456789abcdef";
const std::string kToken = "twilio-auth-token-123";

std::map<std::string, std::string> env_for(const test::TempDatabase& db, const test::LocalServer& twilio,
                                           const std::string& token = kToken) {
    return {{"ARTISTSAID_DATABASE_URL", db.url()},
            {"ARTISTSAID_TWILIO_BASE_URL", twilio.base_url()},
            {"ARTISTSAID_SECRET_TWILIO_ACCOUNT_SID", kSid},
            {"ARTISTSAID_SECRET_TWILIO_AUTH_TOKEN", token}};
}

int received(const test::LocalServer& s) {
    int n = 0;
    std::string out = s.output();
    for (std::size_t p = out.find("RECEIVED "); p != std::string::npos; p = out.find("RECEIVED ", p + 1)) ++n;
    return n;
}

}  // namespace

TEST_CASE("SmsSend.SendsOnceAndRecordsTheSid") {
    auto db = test::migrated_database();
    test::LocalServer twilio("twilio_test_server.py", {"--account-sid", kSid, "--auth-token", kToken});
    SmsSendStep step(PluginEnvironment(env_for(*db, twilio)));
    auto call = test::step_call({{"to", "+4915112345678"},
                                 {"from", "+15005550006"},
                                 {"body", "Ihre Rechnung ist bezahlt ✓"},
                                 {"status_callback", "https://artistsaid.example/hooks/twilio"}});
    auto r = step.run(call);
    REQUIRE_MESSAGE(r.kind == Kind::kSucceeded, r.error);
    std::string sid = r.outputs["sid"];
    CHECK(sid.rfind("SM", 0) == 0);
    CHECK(r.outputs["status"] == "queued");
    CHECK(r.outputs["already_sent"] == false);
    auto again = step.run(call);
    CHECK(again.outputs["sid"] == sid);
    CHECK(again.outputs["already_sent"] == true);
    CHECK(received(twilio) == 1);
    CHECK(twilio.output().find("\"StatusCallback\": \"https://artistsaid.example/hooks/twilio\"") != std::string::npos);
    CHECK(test::count_rows(db->url(), "SELECT count(*) FROM sms_messages WHERE provider_sid = '" + sid +
                                          "' AND status = 'queued' AND to_number = '+4915112345678'") == 1);
}

TEST_CASE("SmsSend.MessagingServiceSidInsteadOfFrom") {
    auto db = test::migrated_database();
    test::LocalServer twilio("twilio_test_server.py", {"--account-sid", kSid, "--auth-token", kToken});
    SmsSendStep step(PluginEnvironment(env_for(*db, twilio)));
    auto r = step.run(test::step_call({{"to", "+442071838750"},
                                       {"messaging_service_sid", "MG0123456789abcdef0123456789abcdef"},
                                       {"body", "hi"}}));
    REQUIRE_MESSAGE(r.kind == Kind::kSucceeded, r.error);
    CHECK(twilio.output().find("\"MessagingServiceSid\": \"MG0123456789abcdef0123456789abcdef\"") != std::string::npos);
}

TEST_CASE("SmsSend.BadNumbersAreRefusedBeforeSending") {
    auto db = test::migrated_database();
    test::LocalServer twilio("twilio_test_server.py", {"--account-sid", kSid, "--auth-token", kToken});
    SmsSendStep step(PluginEnvironment(env_for(*db, twilio)));
    for (std::string to : {"015112345678", "+0049151", "+49 151 1234", "+1234567890123456", ""})
        CHECK_THROWS_AS(step.run(test::step_call({{"to", to}, {"from", "+15005550006"}, {"body", "x"}})), InputError);
    CHECK_THROWS_AS(step.run(test::step_call({{"to", "+4915112345678"}, {"body", "x"}})), InputError);  // no sender
    CHECK_THROWS_AS(step.run(test::step_call({{"to", "+4915112345678"}, {"from", "+15005550006"},
                                              {"body", std::string(1601, 'x')}})),
                    InputError);
    CHECK(received(twilio) == 0);
}

TEST_CASE("SmsSend.WrongTokenIsAFinalFailureWithoutTheSecret") {
    auto db = test::migrated_database();
    test::LocalServer twilio("twilio_test_server.py", {"--account-sid", kSid, "--auth-token", kToken});
    SmsSendStep step(PluginEnvironment(env_for(*db, twilio, "wrong-token-value")));
    auto r = step.run(test::step_call({{"to", "+4915112345678"}, {"from", "+15005550006"}, {"body", "x"}}));
    CHECK(r.kind == Kind::kFailed);
    CHECK_FALSE(r.retryable);
    CHECK(r.error.find("20003") != std::string::npos);
    CHECK(r.error.find("wrong-token-value") == std::string::npos);
    CHECK(test::count_rows(db->url(), "SELECT count(*) FROM step_effects") == 0);
}

TEST_CASE("SmsSend.ThrottledIsRetryableAndThenSendsOnce") {
    auto db = test::migrated_database();
    test::LocalServer twilio("twilio_test_server.py", {"--account-sid", kSid, "--auth-token", kToken,
                                                        "--fail-status", "429", "--fail-count", "1"});
    SmsSendStep step(PluginEnvironment(env_for(*db, twilio)));
    auto call = test::step_call({{"to", "+4915112345678"}, {"from", "+15005550006"}, {"body", "x"}});
    auto r = step.run(call);
    CHECK(r.kind == Kind::kFailed);
    CHECK(r.retryable);
    call.attempt = 2;
    r = step.run(call);
    REQUIRE_MESSAGE(r.kind == Kind::kSucceeded, r.error);
    CHECK(received(twilio) == 1);
}

TEST_CASE("SmsSend.ServerErrorIsAnUnknownOutcomeAndNotResent") {
    auto db = test::migrated_database();
    test::LocalServer twilio("twilio_test_server.py", {"--account-sid", kSid, "--auth-token", kToken,
                                                        "--fail-status", "500", "--fail-count", "1"});
    SmsSendStep step(PluginEnvironment(env_for(*db, twilio)));
    auto call = test::step_call({{"to", "+4915112345678"}, {"from", "+15005550006"}, {"body", "x"}});
    auto r = step.run(call);
    CHECK(r.kind == Kind::kFailed);
    CHECK_FALSE(r.retryable);
    call.attempt = 2;
    r = step.run(call);
    CHECK(r.kind == Kind::kFailed);
    CHECK(r.error.find("outcome is unknown") != std::string::npos);
    CHECK(received(twilio) == 0);
}
