// Webhooks over real HTTP: signatures computed by the openssl command line (independent of
// the server's code); refused deliveries store nothing; a redelivered event starts nothing
// new, even when five copies arrive at once; a webhook resumes a run waiting in wait.event.
#include <doctest/doctest.h>
#include <signal.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <thread>

#include "tests/integration/http/serve_fixture.hpp"

using namespace artistsaid;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const std::string kStripeSecret = "whsec_test_0123456789";
const std::string kTwilioToken = "twilio_token_abcdef";
const std::string kPartnerSecret = "partner_secret_xyz";
const std::string kPublicUrl = "https://hooks.example.test";

struct WebhookFixture : test::ServeFixture {
    WebhookFixture() {
        workflow("on-stripe",
                 "name: on-stripe\nversion: 1\non:\n  webhook: { provider: stripe, events: "
                 "[invoice.payment_failed] }\ninputs:\n  webhook: { type: object }\nsteps:\n  - "
                 "id: hi\n    uses: log\n    with: { message: \"${{ inputs.webhook.type }}\" }\n");
        workflow("on-twilio",
                 "name: on-twilio\nversion: 1\non:\n  webhook: { provider: twilio }\nsteps:\n"
                 "  - id: hi\n    uses: log\n    with: { message: sms }\n");
        workflow("on-partner",
                 "name: on-partner\nversion: 1\non:\n  webhook: { provider: partner, events: "
                 "[order.created] }\nsteps:\n  - id: hi\n    uses: log\n    with: { message: "
                 "order }\n");
        env["ARTISTSAID_SECRET_STRIPE_WEBHOOK_SECRET"] = kStripeSecret;
        env["ARTISTSAID_SECRET_TWILIO_AUTH_TOKEN"] = kTwilioToken;
        env["ARTISTSAID_SECRET_WEBHOOK_SECRET_PARTNER"] = kPartnerSecret;
        env["ARTISTSAID_HTTP_PUBLIC_URL"] = kPublicUrl;
    }

    long long events() const { return scalar("SELECT count(*) FROM webhook_events"); }
    long long webhook_runs() const {
        return scalar("SELECT count(*) FROM workflow_runs WHERE trigger_kind = 'webhook'");
    }

    test::HttpReply stripe(const std::string& body, const std::string& header) const {
        std::vector<std::pair<std::string, std::string>> h = {{"Content-Type", "application/json"}};
        if (!header.empty()) h.emplace_back("Stripe-Signature", header);
        return test::http_request(port, "POST", "/hooks/stripe", h, body);
    }
    std::string stripe_header(const std::string& body, long long t,
                              const std::string& secret = kStripeSecret) const {
        auto ts = std::to_string(t);
        return "t=" + ts + ",v1=" + test::openssl_hmac("sha256", secret, ts + "." + body);
    }
    test::HttpReply generic(const std::string& name, const std::string& body, long long t,
                            const std::string& secret = kPartnerSecret) const {
        auto ts = std::to_string(t);
        return test::http_request(
            port, "POST", "/hooks/generic/" + name,
            {{"Content-Type", "application/json"},
             {"X-Webhook-Timestamp", ts},
             {"X-Webhook-Signature", "sha256=" + test::openssl_hmac("sha256", secret, ts + "." + body)}},
            body);
    }
};

std::string stripe_event(const std::string& id, const std::string& type = "invoice.payment_failed") {
    return json{{"id", id}, {"object", "event"}, {"type", type},
                {"data", {{"object", {{"id", "in_" + id}, {"amount_due", 1200}}}}}}
        .dump();
}

}  // namespace

TEST_CASE("Webhooks.Stripe.ValidSignatureIsStoredAndStartsTheMatchingWorkflow") {
    WebhookFixture f;
    f.start();
    auto body = stripe_event("evt_1");
    auto r = f.stripe(body, f.stripe_header(body, test::unix_now()));
    INFO(r.body);
    REQUIRE(r.status == 200);
    auto j = json::parse(r.body);
    CHECK(j["duplicate"] == false);
    REQUIRE(j["runs"].size() == 1);
    CHECK(j["runs"][0]["workflow"] == "on-stripe");
    CHECK(f.events() == 1);
    CHECK(f.scalar("SELECT count(*) FROM webhook_events WHERE provider = 'stripe' AND "
                   "provider_event_id = 'evt_1' AND processed_at IS NOT NULL AND "
                   "correlation_key = 'in_evt_1'") == 1);
    CHECK(f.scalar("SELECT count(*) FROM workflow_runs WHERE trigger_kind = 'webhook' AND "
                   "workflow_name = 'on-stripe' AND inputs->'webhook'->>'type' = "
                   "'invoice.payment_failed' AND inputs->'webhook'->'data'->>'id' = 'evt_1'") == 1);

    // Any v1 may match (a rotated secret sends two).
    auto body2 = stripe_event("evt_2");
    auto ts = std::to_string(test::unix_now());
    auto header = "t=" + ts + ",v1=" + std::string(64, 'a') + ",v1=" +
                  test::openssl_hmac("sha256", kStripeSecret, ts + "." + body2) + ",v0=ignored";
    CHECK(f.stripe(body2, header).status == 200);

    // An event type no workflow listens to is stored and starts nothing.
    auto other = stripe_event("evt_3", "customer.created");
    auto r3 = f.stripe(other, f.stripe_header(other, test::unix_now()));
    CHECK(r3.status == 200);
    CHECK(json::parse(r3.body)["runs"].empty());
    CHECK(f.events() == 3);
    CHECK(f.webhook_runs() == 2);
}

TEST_CASE("Webhooks.Stripe.BadDeliveriesAreRefusedAndStoreNothing") {
    WebhookFixture f;
    f.start();
    auto body = stripe_event("evt_bad");
    const long long now = test::unix_now();
    SUBCASE("tampered body") {
        auto header = f.stripe_header(body, now);
        auto tampered = body;
        tampered.replace(tampered.find("1200"), 4, "9999");
        auto r = f.stripe(tampered, header);
        CHECK(r.status == 401);
        CHECK(json::parse(r.body)["error"]["code"] == "bad_signature");
    }
    SUBCASE("wrong secret") {
        CHECK(f.stripe(body, f.stripe_header(body, now, "whsec_wrong")).status == 401);
    }
    SUBCASE("stale timestamp, correctly signed") {
        auto r = f.stripe(body, f.stripe_header(body, now - 301));
        CHECK(r.status == 401);
        CHECK(json::parse(r.body)["error"]["code"] == "stale_timestamp");
    }
    SUBCASE("timestamp from the future") {
        CHECK(f.stripe(body, f.stripe_header(body, now + 400)).status == 401);
    }
    SUBCASE("missing header") {
        auto r = f.stripe(body, "");
        CHECK(r.status == 400);
        CHECK(json::parse(r.body)["error"]["code"] == "missing_signature");
    }
    SUBCASE("malformed header") {
        CHECK(f.stripe(body, "garbage").status == 400);
        CHECK(f.stripe(body, "t=abc,v1=00").status == 400);
    }
    SUBCASE("signed body that is not an event") {
        std::string junk = "[1,2,3]";
        auto r = f.stripe(junk, f.stripe_header(junk, now));
        CHECK(r.status == 400);
        CHECK(json::parse(r.body)["error"]["code"] == "invalid_payload");
    }
    CHECK(f.events() == 0);
    CHECK(f.scalar("SELECT count(*) FROM workflow_runs") == 0);
}

TEST_CASE("Webhooks.Dedupe.FiveConcurrentDeliveriesOfOneEventStartOneRun") {
    WebhookFixture f;
    f.start();
    auto body = stripe_event("evt_dup");
    auto header = f.stripe_header(body, test::unix_now());
    std::vector<test::HttpReply> replies(5);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < replies.size(); ++i)
        threads.emplace_back([&, i] { replies[i] = f.stripe(body, header); });
    for (auto& t : threads) t.join();
    int fresh = 0;
    for (const auto& r : replies) {
        INFO(r.body);
        CHECK(r.status == 200);
        if (json::parse(r.body)["duplicate"] == false) ++fresh;
    }
    CHECK(fresh == 1);
    CHECK(f.events() == 1);
    CHECK(f.webhook_runs() == 1);
    // And a later redelivery too.
    auto again = f.stripe(body, f.stripe_header(body, test::unix_now()));
    CHECK(json::parse(again.body)["duplicate"] == true);
    CHECK(f.webhook_runs() == 1);
}

TEST_CASE("Webhooks.Twilio.SignatureOverUrlAndSortedParameters") {
    WebhookFixture f;
    f.start();
    const std::vector<std::pair<std::string, std::string>> params = {
        {"To", "+15557654321"}, {"MessageSid", "SM0001"}, {"From", "+15551234567"},
        {"MessageStatus", "delivered"}, {"Body", "hello world & more"}};
    const std::string form = test::twilio_form(params, true);
    auto sorted = params;
    std::sort(sorted.begin(), sorted.end());
    std::string data = kPublicUrl + "/hooks/twilio";
    for (const auto& [k, v] : sorted) data += k + v;
    auto signature = test::openssl_hmac("sha1", kTwilioToken, data, true);
    auto send = [&](const std::string& body, const std::string& sig) {
        std::vector<std::pair<std::string, std::string>> h = {
            {"Content-Type", "application/x-www-form-urlencoded"}};
        if (!sig.empty()) h.emplace_back("X-Twilio-Signature", sig);
        return test::http_request(f.port, "POST", "/hooks/twilio", h, body);
    };
    CHECK(send(form + "&Extra=1", signature).status == 401);  // a parameter added
    CHECK(send(form, test::openssl_hmac("sha1", "wrong", data, true)).status == 401);
    CHECK(send(form, "").status == 400);
    CHECK(f.events() == 0);
    auto r = send(form, signature);
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(json::parse(r.body)["runs"].size() == 1);
    CHECK(f.scalar("SELECT count(*) FROM webhook_events WHERE provider = 'twilio' AND type = "
                   "'message.delivered' AND payload->>'Body' = 'hello world & more'") == 1);
}

TEST_CASE("Webhooks.Generic.HmacOfTimestampAndBodyWithReplayWindow") {
    WebhookFixture f;
    f.start();
    const std::string body = R"({"id":"ord-1","type":"order.created","key":"ord-1"})";
    CHECK(f.generic("partner", body, test::unix_now() - 301).status == 401);
    CHECK(f.generic("partner", body, test::unix_now(), "other-secret").status == 401);
    CHECK(test::http_request(f.port, "POST", "/hooks/generic/partner",
                             {{"X-Webhook-Timestamp", std::to_string(test::unix_now())}}, body)
              .status == 400);
    // Unknown providers and hooks: 404, nothing stored.
    CHECK(f.generic("nobody", body, test::unix_now()).status == 404);
    CHECK(test::http_request(f.port, "POST", "/hooks/unknown", {}, body).status == 404);
    CHECK(f.events() == 0);
    auto r = f.generic("partner", body, test::unix_now());
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(json::parse(r.body)["runs"][0]["workflow"] == "on-partner");
    CHECK(f.events() == 1);
}

TEST_CASE("Webhooks.PayPal.VerifiedThroughTheVerificationApi") {
    const std::string key = "fake-paypal-signing-key";
    test::ChildProcess fake("/usr/bin/python3",
                            {test::source_dir() + "/tests/integration/http/fake_paypal.py", "cid",
                             "csecret", "WH4242", key});
    REQUIRE(test::eventually([&] { return fake.output().find("port ") != std::string::npos; }, 20s));
    int fake_port = std::stoi(fake.output().substr(fake.output().find("port ") + 5));
    WebhookFixture f;
    f.workflow("on-paypal",
               "name: on-paypal\nversion: 1\non:\n  webhook: { provider: paypal }\nsteps:\n"
               "  - id: hi\n    uses: log\n    with: { message: paid }\n");
    f.start({{"ARTISTSAID_SECRET_PAYPAL_CLIENT_ID", "cid"},
             {"ARTISTSAID_SECRET_PAYPAL_CLIENT_SECRET", "csecret"},
             {"ARTISTSAID_SECRET_PAYPAL_WEBHOOK_ID", "WH4242"},
             {"ARTISTSAID_HTTP_PAYPAL_API_URL", "http://127.0.0.1:" + std::to_string(fake_port)}});
    // Canonical JSON (sorted keys, compact), as the fake hashes it.
    const std::string body =
        R"({"event_type":"PAYMENT.CAPTURE.COMPLETED","id":"WH-EVT-1","resource":{"id":"CAP-9"}})";
    const std::string tid = "b2e1c2a0-0000-11ee-8000-000000000001";
    std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char time_text[32];
    std::strftime(time_text, sizeof time_text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    const std::string time = time_text;
    auto body_hash = test::shell("printf '%s' '" + body + "' | openssl dgst -sha256 -r | cut -d' ' -f1");
    auto sig = test::openssl_hmac("sha256", key, tid + "|" + time + "|WH4242|" + body_hash, true);
    auto deliver = [&](const std::string& signature, bool with_cert = true) {
        std::vector<std::pair<std::string, std::string>> h = {
            {"Content-Type", "application/json"},
            {"PAYPAL-TRANSMISSION-ID", tid},
            {"PAYPAL-TRANSMISSION-TIME", time},
            {"PAYPAL-TRANSMISSION-SIG", signature},
            {"PAYPAL-AUTH-ALGO", "SHA256withRSA"}};
        if (with_cert) h.emplace_back("PAYPAL-CERT-URL", "https://api.paypal.com/v1/notifications/certs/CERT-1");
        return test::http_request(f.port, "POST", "/hooks/paypal", h, body);
    };
    CHECK(deliver(sig, false).status == 400);
    auto wrong = deliver(test::openssl_hmac("sha256", "not-the-key", tid, true));
    CHECK(wrong.status == 401);
    CHECK(f.events() == 0);
    auto r = deliver(sig);
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(json::parse(r.body)["runs"].size() == 1);
    CHECK(f.scalar("SELECT count(*) FROM webhook_events WHERE provider = 'paypal' AND "
                   "provider_event_id = 'WH-EVT-1' AND correlation_key = 'CAP-9'") == 1);
    // PayPal unreachable: 503 (PayPal delivers again later), nothing stored.
    fake.signal(SIGKILL);
    fake.wait(5s);
    const std::string body2 =
        R"({"event_type":"PAYMENT.CAPTURE.COMPLETED","id":"WH-EVT-2","resource":{"id":"CAP-10"}})";
    auto down = test::http_request(f.port, "POST", "/hooks/paypal",
                                   {{"PAYPAL-TRANSMISSION-ID", tid}, {"PAYPAL-TRANSMISSION-TIME", time},
                                    {"PAYPAL-TRANSMISSION-SIG", sig}, {"PAYPAL-AUTH-ALGO", "SHA256withRSA"},
                                    {"PAYPAL-CERT-URL", "https://api.paypal.com/c"}},
                                   body2);
    CHECK(down.status == 503);
    CHECK(f.events() == 1);
}

TEST_CASE("Webhooks.WaitEvent.AWebhookResumesAWaitingRun") {
    WebhookFixture f;
    f.workflow("await-order",
               "name: await-order\nversion: 1\ninputs:\n  order: { type: string, required: true }\n"
               "steps:\n  - id: paid\n    uses: wait.event\n    with: { event: order.paid, key: "
               "\"${{ inputs.order }}\" }\n  - id: done\n    needs: [paid]\n    uses: log\n    "
               "with: { message: done }\n");
    f.start();
    auto started = test::run_cli({"run", "await-order", "--input", "order=ord-77", "--json"},
                                 f.cli_options());
    REQUIRE(started.exit_code == 0);
    const std::string run = json::parse(started.out)["run"];
    auto worker_env = f.env;
    test::ChildProcess worker(test::cli_binary(), {"worker", "--concurrency", "2"}, worker_env);
    auto status_of = [&](const std::string& sql) {
        pqxx::connection c(f.db.url());
        pqxx::read_transaction tx(c);
        auto r = tx.exec_params(sql, run);
        return r.empty() ? std::string() : r[0][0].as<std::string>();
    };
    REQUIRE(test::eventually([&] {
        return status_of("SELECT status FROM step_runs WHERE run_id = $1 AND step_id = 'paid'") == "waiting";
    }, 60s));
    const std::string body = R"({"id":"pay-1","type":"order.paid","key":"ord-77","amount":4200})";
    auto r = f.generic("partner", body, test::unix_now());
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(json::parse(r.body)["resumed"] == 1);
    CHECK(test::eventually([&] {
        return status_of("SELECT status FROM workflow_runs WHERE id = $1") == "succeeded";
    }, 60s));
    CHECK(status_of("SELECT outputs->'event'->>'amount' FROM step_runs WHERE run_id = $1 AND "
                    "step_id = 'paid'") == "4200");
}

TEST_CASE("Webhooks.Recovery.AStoredEventWhoseProcessingStoppedIsFinished") {
    // As if a server stored the event, answered 200 and died before starting the runs.
    WebhookFixture f;
    {
        pqxx::connection c(f.db.url());
        pqxx::work tx(c);
        tx.exec_params0(
            "INSERT INTO webhook_events (id, provider, provider_event_id, type, payload, "
            "correlation_key, attempts, claimed_at, received_at) VALUES "
            "('01900000-0000-7000-8000-000000000001', 'stripe', 'evt_lost', "
            "'invoice.payment_failed', $1::jsonb, 'in_lost', 1, now() - interval '1 minute', "
            "now() - interval '1 minute')",
            stripe_event("evt_lost"));
        tx.commit();
    }
    f.start();
    CHECK(test::eventually([&] {
        return f.scalar("SELECT count(*) FROM webhook_events WHERE processed_at IS NOT NULL") == 1;
    }, 60s));
    CHECK(f.scalar("SELECT count(*) FROM workflow_runs WHERE dedupe_key = "
                   "'webhook:stripe:evt_lost:on-stripe'") == 1);
    // A redelivery now is a duplicate and starts nothing more.
    auto body = stripe_event("evt_lost");
    auto again = f.stripe(body, f.stripe_header(body, test::unix_now()));
    CHECK(json::parse(again.body)["duplicate"] == true);
    CHECK(f.webhook_runs() == 1);
}
