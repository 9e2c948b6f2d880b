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

// Offline: the signature is checked with PayPal's signing certificate. A private CA (made
// here by the openssl command line) stands in for the public ones; the certificates are
// served over loopback HTTP, the signatures made by `openssl dgst -sign` and the CRC-32 by
// Python's zlib — nothing of the server's own code.
TEST_CASE("Webhooks.PayPal.VerifiedOfflineWithTheSigningCertificate") {
    const auto dir = std::filesystem::temp_directory_path() / test::unique_name("aa_paypal_certs");
    std::filesystem::create_directories(dir / "certs");
    const std::string d = dir.string();
    auto make_leaf = [&](const std::string& name, const std::string& host, bool by_ca) {
        std::ofstream(dir / (name + ".ext")) << "subjectAltName=DNS:" << host << "\n";
        test::shell("cd " + d + " && openssl req -newkey rsa:2048 -nodes -keyout " + name +
                    ".key -out " + name + ".csr -subj '/CN=" + host + "' 2>/dev/null && " +
                    (by_ca ? "openssl x509 -req -in " + name + ".csr -CA ca.pem -CAkey ca.key "
                                 "-CAcreateserial -days 2 -extfile " + name + ".ext -out certs/" +
                                 name + ".pem 2>/dev/null"
                           : "openssl x509 -req -in " + name + ".csr -signkey " + name +
                                 ".key -days 2 -extfile " + name + ".ext -out certs/" + name +
                                 ".pem 2>/dev/null"));
    };
    test::shell("cd " + d + " && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key "
                "-out ca.pem -days 2 -subj '/CN=Test PayPal Root' 2>/dev/null");
    make_leaf("paypal", "messageverificationcerts.paypal.com", true);
    make_leaf("impostor", "messageverificationcerts.paypal.com", false);  // self-signed
    make_leaf("other", "www.example.test", true);                         // trusted, wrong name
    test::ChildProcess certs("/usr/bin/python3", {"-u", "-m", "http.server", "0", "--bind",
                                                  "127.0.0.1", "--directory", d});
    REQUIRE(test::eventually([&] { return certs.output().find(" port ") != std::string::npos; }, 20s));
    const int certs_port = std::stoi(certs.output().substr(certs.output().find(" port ") + 6));
    const std::string base = "http://127.0.0.1:" + std::to_string(certs_port) + "/certs/";

    WebhookFixture f;
    f.workflow("on-paypal",
               "name: on-paypal\nversion: 1\non:\n  webhook: { provider: paypal }\nsteps:\n"
               "  - id: hi\n    uses: log\n    with: { message: paid }\n");
    f.start({{"ARTISTSAID_SECRET_PAYPAL_WEBHOOK_ID", "WH-OFFLINE-7"},
             {"ARTISTSAID_HTTP_PAYPAL_VERIFICATION", "certificate"},
             {"ARTISTSAID_HTTP_PAYPAL_CERT_URL_PREFIXES", base},
             {"ARTISTSAID_HTTP_PAYPAL_CA_FILE", d + "/ca.pem"}});

    const std::string tid = "6f3b2c10-0000-11ee-8000-00000000abcd";
    std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char time_text[32];
    std::strftime(time_text, sizeof time_text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    const std::string time = time_text;
    auto crc = [&](const std::string& body) {
        std::ofstream(dir / "body", std::ios::binary) << body;
        auto out = test::shell("/usr/bin/python3 -c \"import zlib; print(zlib.crc32(open('" + d +
                               "/body', 'rb').read()))\"");
        return out.substr(0, out.find('\n'));
    };
    auto sign = [&](const std::string& key, const std::string& text) {
        std::ofstream(dir / "signed", std::ios::binary) << text;
        auto out = test::shell("openssl dgst -sha256 -sign " + d + "/" + key + ".key " + d +
                               "/signed | openssl base64 -A");
        return out.substr(0, out.find('\n'));
    };
    auto deliver = [&](const std::string& body, const std::string& sig, const std::string& cert,
                       const std::string& algo = "SHA256withRSA") {
        return test::http_request(f.port, "POST", "/hooks/paypal",
                                  {{"Content-Type", "application/json"},
                                   {"PAYPAL-TRANSMISSION-ID", tid},
                                   {"PAYPAL-TRANSMISSION-TIME", time},
                                   {"PAYPAL-TRANSMISSION-SIG", sig},
                                   {"PAYPAL-AUTH-ALGO", algo},
                                   {"PAYPAL-CERT-URL", cert}},
                                  body);
    };
    auto code = [](const test::HttpReply& r) {
        auto j = json::parse(r.body, nullptr, false);
        return j.is_object() && j.contains("error") ? j["error"]["code"].get<std::string>()
                                                    : std::string("-");
    };
    // Not canonical JSON on purpose: the raw bytes are what is signed.
    const std::string body =
        R"({ "id": "WH-OFF-1", "event_type": "PAYMENT.CAPTURE.COMPLETED", "resource": {"id": "CAP-77"} })";
    const std::string text = tid + "|" + time + "|WH-OFFLINE-7|" + crc(body);
    const std::string sig = sign("paypal", text);

    auto tampered = body;
    tampered.replace(tampered.find("CAP-77"), 6, "CAP-78");
    auto r = deliver(tampered, sig, base + "paypal.pem");
    CHECK(r.status == 401);
    CHECK(code(r) == "bad_signature");
    r = deliver(body, sign("paypal", tid + "|" + time + "|WH-SOMEONE-ELSE|" + crc(body)),
                base + "paypal.pem");
    CHECK(code(r) == "bad_signature");
    r = deliver(body, sig, "https://certs.example.test/paypal.pem");
    CHECK(r.status == 401);
    CHECK(code(r) == "untrusted_cert_url");
    r = deliver(body, sign("impostor", text), base + "impostor.pem");
    CHECK(r.status == 401);
    CHECK(code(r) == "bad_certificate");
    r = deliver(body, sign("other", text), base + "other.pem");
    CHECK(code(r) == "bad_certificate");
    CHECK(deliver(body, sig, base + "paypal.pem", "SHA1withRSA").status == 401);
    CHECK(deliver(body, "%%%not-base64", base + "paypal.pem").status == 400);
    r = deliver(body, sig, base + "missing.pem");  // the certificate cannot be had: PayPal retries
    CHECK(r.status == 503);
    CHECK(f.events() == 0);

    r = deliver(body, sig, base + "paypal.pem");
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(json::parse(r.body)["runs"].size() == 1);
    CHECK(f.scalar("SELECT count(*) FROM webhook_events WHERE provider = 'paypal' AND "
                   "provider_event_id = 'WH-OFF-1' AND correlation_key = 'CAP-77'") == 1);
    // The certificate is kept: with the certificate server gone, the next delivery verifies.
    certs.signal(SIGKILL);
    certs.wait(5s);
    const std::string body2 =
        R"({"id":"WH-OFF-2","event_type":"PAYMENT.CAPTURE.COMPLETED","resource":{"id":"CAP-78"}})";
    r = deliver(body2, sign("paypal", tid + "|" + time + "|WH-OFFLINE-7|" + crc(body2)),
                base + "paypal.pem");
    CHECK(r.status == 200);
    CHECK(f.events() == 2);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
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
