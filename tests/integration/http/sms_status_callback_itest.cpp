// Twilio message status callbacks through `artistsaid serve` over loopback: sms.send sends
// through the strict fake Twilio (tests/support/servers/twilio_test_server.py) with the
// server's public URL as StatusCallback, then callbacks signed by the openssl command line
// (independent of the server's code) move the sms_messages row forward, never backwards.
#include <doctest/doctest.h>

#include <algorithm>

#include "plugins/sms/sms_send_step.hpp"
#include "tests/integration/http/serve_fixture.hpp"
#include "tests/support/local_server.hpp"

using namespace artistsaid;
using nlohmann::json;

namespace {

const std::string kAccount = "AC0123456789abcdef0123456789abcdef";
const std::string kToken = "twilio-callback-token-42";
const std::string kPublicUrl = "https://aa.example.test";

using Form = std::vector<std::pair<std::string, std::string>>;

// Twilio's signature: base64(HMAC-SHA1(token, URL + sorted name/value pairs)).
std::string twilio_signature(const Form& params, const std::string& token = kToken) {
    auto sorted = params;
    std::sort(sorted.begin(), sorted.end());
    std::string data = kPublicUrl + "/hooks/twilio";
    for (const auto& [k, v] : sorted) data += k + v;
    return test::openssl_hmac("sha1", token, data, true);
}

struct SmsCallbackFixture : test::ServeFixture {
    test::LocalServer twilio{"twilio_test_server.py", {"--account-sid", kAccount, "--auth-token", kToken}};

    SmsCallbackFixture() {
        env["ARTISTSAID_SECRET_TWILIO_AUTH_TOKEN"] = kToken;
        env["ARTISTSAID_HTTP_PUBLIC_URL"] = kPublicUrl;
        start();
    }

    /// Sends one message with sms.send (as a worker would) and returns its SID.
    std::string send_sms(const std::string& key) {
        plugins::SmsSendStep step(plugins::PluginEnvironment(
            {{"ARTISTSAID_DATABASE_URL", db.url()},
             {"ARTISTSAID_TWILIO_BASE_URL", twilio.base_url()},
             {"ARTISTSAID_HTTP_PUBLIC_URL", kPublicUrl + "/"},
             {"ARTISTSAID_SECRET_TWILIO_ACCOUNT_SID", kAccount},
             {"ARTISTSAID_SECRET_TWILIO_AUTH_TOKEN", kToken}}));
        runtime::StepCall call;
        call.run_id = "00000000-0000-0000-0000-000000000000";
        call.step_id = "sms";
        call.idempotency_key = key;
        call.with = {{"to", "+4915112345678"}, {"from", "+15005550006"}, {"body", "Rechnung bezahlt"}};
        call.deadline = std::chrono::system_clock::now() + std::chrono::seconds(30);
        auto r = step.run(call);
        REQUIRE_MESSAGE(r.kind == runtime::StepResult::Kind::kSucceeded, r.error);
        return r.outputs["sid"].get<std::string>();
    }

    test::HttpReply callback(const Form& params, const std::string& signature) const {
        std::vector<std::pair<std::string, std::string>> h = {
            {"Content-Type", "application/x-www-form-urlencoded"}};
        if (!signature.empty()) h.emplace_back("X-Twilio-Signature", signature);
        return test::http_request(port, "POST", "/hooks/twilio", h, test::twilio_form(params));
    }
    test::HttpReply signed_callback(const Form& params) const {
        return callback(params, twilio_signature(params));
    }

    std::string row(const std::string& sid) const {
        pqxx::connection c(db.url());
        pqxx::read_transaction tx(c);
        auto r = tx.exec_params1(
            "SELECT status || '/' || coalesce(error_code::text, '-') FROM sms_messages WHERE "
            "provider_sid = $1",
            sid);
        return r[0].as<std::string>();
    }
    long long status_changes(const std::string& sid) const {
        return scalar("SELECT count(*) FROM sms_messages WHERE provider_sid = '" + sid +
                      "' AND status_updated_at > created_at");
    }
};

Form status(const std::string& sid, const std::string& s, const std::string& error_code = {}) {
    Form f = {{"AccountSid", kAccount}, {"ApiVersion", "2010-04-01"}, {"From", "+15005550006"},
              {"MessageSid", sid}, {"MessageStatus", s}, {"SmsSid", sid}, {"SmsStatus", s},
              {"To", "+4915112345678"}};
    if (!error_code.empty()) f.emplace_back("ErrorCode", error_code);
    return f;
}

}  // namespace

TEST_CASE("SmsStatusCallback.SendPassesTheServersCallbackUrl") {
    SmsCallbackFixture f;
    auto sid = f.send_sms("sms:url");
    CHECK(f.twilio.output().find("\"StatusCallback\": \"" + kPublicUrl + "/hooks/twilio\"") !=
          std::string::npos);
    CHECK(f.row(sid) == "queued/-");
}

TEST_CASE("SmsStatusCallback.StatusesMoveForwardOnly") {
    SmsCallbackFixture f;
    auto sid = f.send_sms("sms:forward");
    auto r = f.signed_callback(status(sid, "sending"));
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(json::parse(r.body)["sms"] == "updated");
    CHECK(f.row(sid) == "sending/-");
    CHECK(f.status_changes(sid) == 1);

    r = f.signed_callback(status(sid, "delivered"));
    REQUIRE(r.status == 200);
    CHECK(json::parse(r.body)["sms"] == "updated");
    CHECK(f.row(sid) == "delivered/-");

    // A late "sent" (Twilio does not promise order) and a second final status: no change.
    r = f.signed_callback(status(sid, "sent"));
    REQUIRE(r.status == 200);
    CHECK(json::parse(r.body)["sms"] == "unchanged");
    r = f.signed_callback(status(sid, "undelivered", "30003"));
    REQUIRE(r.status == 200);
    CHECK(json::parse(r.body)["sms"] == "unchanged");
    CHECK(f.row(sid) == "delivered/-");
    // Every callback was stored as its own event.
    CHECK(f.scalar("SELECT count(*) FROM webhook_events WHERE provider = 'twilio' AND "
                   "correlation_key = '" + sid + "'") == 4);
}

TEST_CASE("SmsStatusCallback.FailureRecordsTheErrorCode") {
    SmsCallbackFixture f;
    auto sid = f.send_sms("sms:fail");
    auto r = f.signed_callback(status(sid, "sent"));
    REQUIRE(r.status == 200);
    r = f.signed_callback(status(sid, "undelivered", "30005"));
    REQUIRE(r.status == 200);
    CHECK(f.row(sid) == "undelivered/30005");
    // Redelivered: answered as a duplicate, still one row state.
    r = f.signed_callback(status(sid, "undelivered", "30005"));
    REQUIRE(r.status == 200);
    CHECK(json::parse(r.body)["duplicate"] == true);
    CHECK(f.row(sid) == "undelivered/30005");
}

TEST_CASE("SmsStatusCallback.UnknownMessageIsStoredAndChangesNothing") {
    SmsCallbackFixture f;
    auto sid = f.send_sms("sms:unknown");
    const std::string other = "SM" + std::string(32, 'f');
    auto r = f.signed_callback(status(other, "delivered"));
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(json::parse(r.body)["sms"] == "unknown_message");
    CHECK(f.scalar("SELECT count(*) FROM webhook_events WHERE correlation_key = '" + other + "'") == 1);
    CHECK(f.scalar("SELECT count(*) FROM sms_messages") == 1);
    CHECK(f.row(sid) == "queued/-");
    // Another account's message with our SID: not ours, no change.
    Form foreign = status(sid, "delivered");
    foreign[0].second = "AC" + std::string(32, '9');
    r = f.signed_callback(foreign);
    REQUIRE(r.status == 200);
    CHECK(json::parse(r.body)["sms"] == "unchanged");
    CHECK(f.row(sid) == "queued/-");
}

TEST_CASE("SmsStatusCallback.BadSignatureIsRefusedAndChangesNothing") {
    SmsCallbackFixture f;
    auto sid = f.send_sms("sms:badsig");
    auto params = status(sid, "delivered");
    CHECK(f.callback(params, twilio_signature(params, "not-the-token")).status == 401);
    auto tampered = status(sid, "failed", "30008");  // signed for "delivered", sent as "failed"
    CHECK(f.callback(tampered, twilio_signature(params)).status == 401);
    CHECK(f.callback(params, "").status == 400);
    CHECK(f.row(sid) == "queued/-");
    CHECK(f.status_changes(sid) == 0);
    CHECK(f.scalar("SELECT count(*) FROM webhook_events") == 0);
}

// JSON-bodied deliveries: Twilio adds bodySHA256 (hex SHA-256 of the raw body) to the URL's
// query and signs the URL alone; the body must hash to it. Both a status object with the
// form's names and an Event Streams CloudEvent (an array of one) move the row.
TEST_CASE("SmsStatusCallback.JsonBodiesAreCheckedAgainstBodySha256") {
    SmsCallbackFixture f;
    auto sid = f.send_sms("sms:json");
    auto post = [&](const std::string& body, const std::string& hash, const std::string& token) {
        const std::string target = "/hooks/twilio?source=json&bodySHA256=" + hash;
        std::vector<std::pair<std::string, std::string>> h = {
            {"Content-Type", "application/json; charset=utf-8"},
            {"X-Twilio-Signature", test::openssl_hmac("sha1", token, kPublicUrl + target, true)}};
        return test::http_request(f.port, "POST", target, h, body);
    };
    const std::string sending =
        json{{"AccountSid", kAccount}, {"MessageSid", sid}, {"MessageStatus", "sending"}}.dump();
    // Refused, nothing stored: the wrong token, a body that is not the hashed one, no hash.
    CHECK(post(sending, test::openssl_sha256(sending), "not-the-token").status == 401);
    auto tampered = post(sending, test::openssl_sha256(sending + " "), kToken);
    CHECK(tampered.status == 401);
    CHECK(json::parse(tampered.body)["error"]["code"] == "bad_body_hash");
    const std::string unhashed = "/hooks/twilio?source=json";
    auto missing = test::http_request(
        f.port, "POST", unhashed,
        {{"Content-Type", "application/json"},
         {"X-Twilio-Signature", test::openssl_hmac("sha1", kToken, kPublicUrl + unhashed, true)}},
        sending);
    CHECK(missing.status == 400);
    CHECK(json::parse(missing.body)["error"]["code"] == "missing_body_hash");
    CHECK(f.scalar("SELECT count(*) FROM webhook_events") == 0);

    auto r = post(sending, test::openssl_sha256(sending), kToken);
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(json::parse(r.body)["sms"] == "updated");
    CHECK(f.row(sid) == "sending/-");

    // An Event Streams CloudEvent: capitals in the status, a numeric error code.
    const std::string cloud_event =
        json::array({{{"specversion", "1.0"},
                      {"type", "com.twilio.messaging.message.undelivered"},
                      {"source", "/2010-04-01/Accounts/" + kAccount + "/Messages/" + sid + ".json"},
                      {"id", "EZ" + std::string(32, 'a')},
                      {"datacontenttype", "application/json"},
                      {"data",
                       {{"accountSid", kAccount},
                        {"messageSid", sid},
                        {"messageStatus", "UNDELIVERED"},
                        {"errorCode", 30005}}}}})
            .dump();
    r = post(cloud_event, test::openssl_sha256(cloud_event), kToken);
    REQUIRE(r.status == 200);
    CHECK(json::parse(r.body)["sms"] == "updated");
    CHECK(f.row(sid) == "undelivered/30005");
    CHECK(f.scalar("SELECT count(*) FROM webhook_events WHERE provider = 'twilio' AND type = "
                   "'message.undelivered' AND provider_event_id = 'EZ" + std::string(32, 'a') +
                   "' AND correlation_key = '" + sid + "'") == 1);
    // Two events in one delivery: refused with a clear error (one event per delivery).
    const std::string two = "[" + json::parse(cloud_event)[0].dump() + "," +
                            json::parse(cloud_event)[0].dump() + "]";
    auto batch = post(two, test::openssl_sha256(two), kToken);
    CHECK(batch.status == 400);
    CHECK(json::parse(batch.body)["error"]["message"].get<std::string>().find("one event") !=
          std::string::npos);
    CHECK(f.scalar("SELECT count(*) FROM webhook_events") == 2);
}
