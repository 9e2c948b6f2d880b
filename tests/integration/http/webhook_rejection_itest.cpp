// Every webhook provider, every way a delivery can be wrong: tampered body, wrong secret,
// stale (or future) timestamp, missing header. Each is refused with 400 or 401 over real
// HTTP, and after each one nothing is stored (no webhook_events row, no run); the refusals
// are counted in /metrics by provider and outcome. Signatures are computed by the openssl
// command line. A correctly signed delivery at the end proves the setup accepts what it
// should, so the refusals are not an accident of configuration.
#include <doctest/doctest.h>
#include <signal.h>

#include <ctime>

#include "tests/integration/http/prometheus_text_checker.hpp"
#include "tests/integration/http/serve_fixture.hpp"

using namespace artistsaid;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Delivery {
    std::string what;
    std::string target;
    Headers headers;
    std::string body;
    int status;        // expected: 400 or 401
    std::string code;  // expected error code
};

struct RejectionFixture : test::ServeFixture {
    RejectionFixture() {
        for (const char* provider : {"stripe", "twilio", "paypal", "partner"})
            workflow("on-" + std::string(provider),
                     "name: on-" + std::string(provider) +
                         "\nversion: 1\non:\n  webhook: { "
                         "provider: " +
                         provider +
                         " }\nsteps:\n  - id: hi\n    uses: log\n    "
                         "with: { message: hi }\n");
    }

    long long stored() const {
        return scalar("SELECT count(*) FROM webhook_events") +
               scalar("SELECT count(*) FROM workflow_runs");
    }

    // Sends each delivery and checks that it is refused as expected and stores nothing.
    void refuse_all(const std::vector<Delivery>& deliveries) const {
        for (const auto& d : deliveries) {
            auto r = test::http_request(port, "POST", d.target, d.headers, d.body);
            auto body = json::parse(r.body, nullptr, false);
            INFO(d.target << " — " << d.what << ": " << r.status << " " << r.body);
            CHECK(r.status == d.status);
            REQUIRE(body.is_object());
            CHECK(body["error"]["code"] == d.code);
            CHECK(stored() == 0);
        }
    }

    // The value of a /metrics sample (after checking the whole text parses), -1 if absent.
    double metric(const std::string& name, const std::map<std::string, std::string>& labels) const {
        auto m = get("/metrics");
        std::vector<test::PrometheusSample> samples;
        for (const auto& p : test::check_prometheus_text(m.body, &samples)) FAIL_CHECK(p);
        for (const auto& s : samples) {
            if (s.name != name) continue;
            bool match = true;
            for (const auto& [k, v] : labels)
                match = match && s.labels.count(k) && s.labels.at(k) == v;
            if (match) return s.value;
        }
        return -1;
    }
};

std::string rfc3339(std::time_t t) {
    std::tm utc{};
    gmtime_r(&t, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

}  // namespace

TEST_CASE("Webhooks.Rejected.Stripe.EveryBadDeliveryStoresNothing") {
    const std::string secret = "whsec_reject_0001";
    RejectionFixture f;
    f.start({{"ARTISTSAID_SECRET_STRIPE_WEBHOOK_SECRET", secret},
             {"ARTISTSAID_HTTP_WEBHOOK_TOLERANCE", "60s"}});  // configurable tolerance
    const std::string body =
        R"({"id":"evt_r1","object":"event","type":"invoice.paid","data":{"object":{"id":"in_1"}}})";
    const long long now = test::unix_now();
    auto header = [&](long long t, const std::string& key, const std::string& signed_body) {
        auto ts = std::to_string(t);
        return "t=" + ts + ",v1=" + test::openssl_hmac("sha256", key, ts + "." + signed_body);
    };
    auto delivery = [&](std::string what, std::string sig, std::string sent, int status,
                        std::string code) {
        Headers h = {{"Content-Type", "application/json"}};
        if (!sig.empty()) h.emplace_back("Stripe-Signature", sig);
        return Delivery{std::move(what), "/hooks/stripe", h,
                        std::move(sent), status,          std::move(code)};
    };
    std::string tampered = body;
    tampered.replace(tampered.find("in_1"), 4, "in_2");
    f.refuse_all({
        delivery("tampered body", header(now, secret, body), tampered, 401, "bad_signature"),
        delivery("wrong secret", header(now, "whsec_other", body), body, 401, "bad_signature"),
        // 90 s old: inside Stripe's default 300 s, outside the configured 60 s.
        delivery("stale timestamp", header(now - 90, secret, body), body, 401, "stale_timestamp"),
        delivery("future timestamp", header(now + 150, secret, body), body, 401, "stale_timestamp"),
        delivery("missing header", "", body, 400, "missing_signature"),
        delivery("no v1", "t=" + std::to_string(now), body, 400, "malformed_signature"),
        delivery("v0 only", "t=" + std::to_string(now) + ",v0=" + std::string(64, '0'), body, 400,
                 "malformed_signature"),
        delivery("truncated signature", header(now, secret, body).substr(0, 40), body, 401,
                 "bad_signature"),
    });
    CHECK(f.metric("artistsaid_webhook_requests_total",
                   {{"provider", "stripe"}, {"outcome", "rejected"}}) == 8);
    auto ok = test::http_request(f.port, "POST", "/hooks/stripe",
                                 {{"Stripe-Signature", header(now, secret, body)}}, body);
    CHECK(ok.status == 200);
    CHECK(f.scalar("SELECT count(*) FROM webhook_events") == 1);
    CHECK(f.metric("artistsaid_webhook_requests_total",
                   {{"provider", "stripe"}, {"outcome", "accepted"}}) == 1);
    CHECK(f.metric("artistsaid_webhook_events",
                   {{"provider", "stripe"}, {"outcome", "processed"}}) == 1);
}

TEST_CASE("Webhooks.Rejected.Twilio.EveryBadDeliveryStoresNothing") {
    const std::string token = "twilio_reject_token";
    const std::string url = "https://hooks.example.test";
    RejectionFixture f;
    f.start({{"ARTISTSAID_SECRET_TWILIO_AUTH_TOKEN", token}, {"ARTISTSAID_HTTP_PUBLIC_URL", url}});
    const std::vector<std::pair<std::string, std::string>> params = {
        {"MessageSid", "SM0042"}, {"MessageStatus", "delivered"}, {"To", "+15557654321"}};
    auto signature = [&](const std::vector<std::pair<std::string, std::string>>& p,
                         const std::string& key, const std::string& path = "/hooks/twilio") {
        auto sorted = p;
        std::sort(sorted.begin(), sorted.end());
        std::string data = url + path;
        for (const auto& [k, v] : sorted) data += k + v;
        return test::openssl_hmac("sha1", key, data, true);
    };
    const std::string form = test::twilio_form(params);
    auto delivery = [&](std::string what, std::string sig, std::string sent, int status,
                        std::string code, std::string target = "/hooks/twilio") {
        Headers h = {{"Content-Type", "application/x-www-form-urlencoded"}};
        if (!sig.empty()) h.emplace_back("X-Twilio-Signature", sig);
        return Delivery{std::move(what), std::move(target), h, std::move(sent),
                        status,          std::move(code)};
    };
    auto changed = params;
    changed[1].second = "failed";
    // A JSON-bodied delivery signs the URL with bodySHA256; the body must hash to it.
    const std::string json_body = R"({"MessageSid":"SM0043","MessageStatus":"delivered"})";
    const std::string json_path = "/hooks/twilio?bodySHA256=" + test::openssl_sha256(json_body);
    Headers json_headers = {{"Content-Type", "application/json"},
                            {"X-Twilio-Signature", signature({}, token, json_path)}};
    f.refuse_all({
        delivery("tampered body (a value changed)", signature(params, token),
                 test::twilio_form(changed), 401, "bad_signature"),
        delivery("tampered body (a parameter added)", signature(params, token), form + "&Body=x",
                 401, "bad_signature"),
        delivery("wrong secret", signature(params, "not-the-token"), form, 401, "bad_signature"),
        delivery("signed for another URL", signature(params, token, "/hooks/other"), form, 401,
                 "bad_signature"),
        delivery("missing header", "", form, 400, "missing_signature"),
        Delivery{"JSON body tampered", json_path, json_headers,
                 R"({"MessageSid":"SM0043","MessageStatus":"failed"})", 401, "bad_body_hash"},
    });
    // Twilio signs no timestamp (it documents none): there is no replay window to test.
    CHECK(f.metric("artistsaid_webhook_requests_total",
                   {{"provider", "twilio"}, {"outcome", "rejected"}}) == 6);
    auto ok = test::http_request(f.port, "POST", "/hooks/twilio",
                                 {{"Content-Type", "application/x-www-form-urlencoded"},
                                  {"X-Twilio-Signature", signature(params, token)}},
                                 form);
    INFO(ok.body);
    CHECK(ok.status == 200);
    CHECK(f.scalar("SELECT count(*) FROM webhook_events") == 1);
}

TEST_CASE("Webhooks.Rejected.Generic.EveryBadDeliveryStoresNothing") {
    const std::string secret = "partner_reject_secret";
    RejectionFixture f;
    f.start({{"ARTISTSAID_SECRET_WEBHOOK_SECRET_PARTNER", secret}});
    const std::string body = R"({"id":"ord-9","type":"order.created","key":"ord-9"})";
    const long long now = test::unix_now();
    auto delivery = [&](std::string what, std::optional<long long> t, std::string key,
                        std::string sent, int status, std::string code,
                        std::string signed_body = {}) {
        Headers h = {{"Content-Type", "application/json"}};
        if (t) h.emplace_back("X-Webhook-Timestamp", std::to_string(*t));
        if (!key.empty()) {
            auto ts = std::to_string(t.value_or(now));
            h.emplace_back("X-Webhook-Signature",
                           "sha256=" + test::openssl_hmac(
                                           "sha256", key,
                                           ts + "." + (signed_body.empty() ? sent : signed_body)));
        }
        return Delivery{std::move(what), "/hooks/generic/partner", h, std::move(sent),
                        status,          std::move(code)};
    };
    std::string tampered = body;
    tampered.replace(tampered.find("ord-9\",\"type"), 5, "ord-8");
    f.refuse_all({
        delivery("tampered body", now, secret, tampered, 401, "bad_signature", body),
        delivery("wrong secret", now, "someone-else", body, 401, "bad_signature"),
        delivery("stale timestamp", now - 301, secret, body, 401, "stale_timestamp"),
        // Far enough ahead that the seconds the signing takes cannot bring it into the window.
        delivery("future timestamp", now + 400, secret, body, 401, "stale_timestamp"),
        delivery("missing signature header", now, "", body, 400, "missing_signature"),
        delivery("missing timestamp header", std::nullopt, secret, body, 400, "missing_signature"),
        Delivery{"timestamp not a number",
                 "/hooks/generic/partner",
                 {{"X-Webhook-Timestamp", "yesterday"},
                  {"X-Webhook-Signature", "sha256=" + std::string(64, '0')}},
                 body,
                 400,
                 "malformed_signature"},
    });
    CHECK(f.metric("artistsaid_webhook_requests_total",
                   {{"provider", "partner"}, {"outcome", "rejected"}}) == 7);
    // An unknown hook name and an unknown provider: 404, nothing stored.
    auto unknown = test::http_request(f.port, "POST", "/hooks/generic/nobody", {}, body);
    CHECK(unknown.status == 404);
    CHECK(test::http_request(f.port, "POST", "/hooks/square", {}, body).status == 404);
    CHECK(f.stored() == 0);
    auto ok = test::http_request(
        f.port, "POST", "/hooks/generic/partner",
        {{"X-Webhook-Timestamp", std::to_string(now)},
         {"X-Webhook-Signature",
          "sha256=" + test::openssl_hmac("sha256", secret, std::to_string(now) + "." + body)}},
        body);
    CHECK(ok.status == 200);
    CHECK(f.scalar("SELECT count(*) FROM webhook_events") == 1);
}

TEST_CASE("Webhooks.Rejected.PayPal.EveryBadDeliveryStoresNothing") {
    const std::string key = "fake-paypal-reject-key";
    test::ChildProcess fake("/usr/bin/python3",
                            {test::source_dir() + "/tests/integration/http/fake_paypal.py", "cid",
                             "csecret", "WH777", key});
    REQUIRE(
        test::eventually([&] { return fake.output().find("port ") != std::string::npos; }, 20s));
    const int fake_port = std::stoi(fake.output().substr(fake.output().find("port ") + 5));
    RejectionFixture f;
    f.start({{"ARTISTSAID_SECRET_PAYPAL_CLIENT_ID", "cid"},
             {"ARTISTSAID_SECRET_PAYPAL_CLIENT_SECRET", "csecret"},
             {"ARTISTSAID_SECRET_PAYPAL_WEBHOOK_ID", "WH777"},
             {"ARTISTSAID_HTTP_PAYPAL_API_URL", "http://127.0.0.1:" + std::to_string(fake_port)}});
    // Canonical JSON (sorted keys, compact), as the fake hashes it.
    const std::string body =
        R"({"event_type":"PAYMENT.CAPTURE.COMPLETED","id":"WH-R-1","resource":{"id":"CAP-1"}})";
    const std::string tid = "c0ffee00-0000-11ee-8000-000000000001";
    const std::string now = rfc3339(std::time(nullptr));
    auto sign = [&](const std::string& time, const std::string& signing_key,
                    const std::string& signed_body) {
        return test::openssl_hmac("sha256", signing_key,
                                  tid + "|" + time + "|WH777|" + test::openssl_sha256(signed_body),
                                  true);
    };
    auto delivery = [&](std::string what, std::string time, std::string sig, std::string sent,
                        int status, std::string code, const char* drop = nullptr) {
        Headers h = {{"Content-Type", "application/json"},
                     {"PAYPAL-TRANSMISSION-ID", tid},
                     {"PAYPAL-TRANSMISSION-TIME", time},
                     {"PAYPAL-TRANSMISSION-SIG", sig},
                     {"PAYPAL-AUTH-ALGO", "SHA256withRSA"},
                     {"PAYPAL-CERT-URL", "https://api.paypal.com/v1/notifications/certs/C-1"}};
        if (drop != nullptr) std::erase_if(h, [&](const auto& kv) { return kv.first == drop; });
        return Delivery{std::move(what), "/hooks/paypal", h,
                        std::move(sent), status,          std::move(code)};
    };
    const std::string tampered =
        R"({"event_type":"PAYMENT.CAPTURE.COMPLETED","id":"WH-R-1","resource":{"id":"CAP-2"}})";
    const std::string stale = rfc3339(std::time(nullptr) - 400);
    std::vector<Delivery> bad = {
        delivery("tampered body", now, sign(now, key, body), tampered, 401, "bad_signature"),
        delivery("wrong secret", now, sign(now, "not-paypal", body), body, 401, "bad_signature"),
        delivery("stale transmission time", stale, sign(stale, key, body), body, 401,
                 "stale_timestamp"),
        delivery("transmission time not a time", "soon", sign(now, key, body), body, 400,
                 "malformed_signature"),
    };
    for (const char* header : {"PAYPAL-TRANSMISSION-SIG", "PAYPAL-TRANSMISSION-ID",
                               "PAYPAL-TRANSMISSION-TIME", "PAYPAL-CERT-URL", "PAYPAL-AUTH-ALGO"})
        bad.push_back(delivery(std::string("missing ") + header, now, sign(now, key, body), body,
                               400, "missing_signature", header));
    f.refuse_all(bad);
    CHECK(f.metric("artistsaid_webhook_requests_total",
                   {{"provider", "paypal"}, {"outcome", "rejected"}}) ==
          static_cast<double>(bad.size()));
    auto ok = test::http_request(f.port, "POST", "/hooks/paypal",
                                 delivery("good", now, sign(now, key, body), body, 200, "").headers,
                                 body);
    INFO(ok.body);
    CHECK(ok.status == 200);
    CHECK(f.scalar("SELECT count(*) FROM webhook_events") == 1);
    fake.signal(SIGKILL);
    fake.wait(5s);
}

TEST_CASE("Webhooks.Rejected.PayPalOffline.StaleOrIncompleteDeliveriesStoreNothing") {
    // Checked before any certificate is fetched: the certificate URL's server need not exist.
    RejectionFixture f;
    f.start({{"ARTISTSAID_SECRET_PAYPAL_WEBHOOK_ID", "WHOFF"},
             {"ARTISTSAID_HTTP_PAYPAL_VERIFICATION", "certificate"}});
    const std::string body =
        R"({"event_type":"PAYMENT.CAPTURE.COMPLETED","id":"WH-O-1","resource":{"id":"CAP-3"}})";
    auto delivery = [&](std::string what, std::string time, int status, std::string code,
                        const char* drop = nullptr) {
        Headers h = {{"Content-Type", "application/json"},
                     {"PAYPAL-TRANSMISSION-ID", "d00d0000-0000-11ee-8000-000000000001"},
                     {"PAYPAL-TRANSMISSION-TIME", time},
                     {"PAYPAL-TRANSMISSION-SIG", "c2lnbmF0dXJl"},
                     {"PAYPAL-AUTH-ALGO", "SHA256withRSA"},
                     {"PAYPAL-CERT-URL", "https://api.paypal.com/v1/notifications/certs/C-1"}};
        if (drop != nullptr) std::erase_if(h, [&](const auto& kv) { return kv.first == drop; });
        return Delivery{std::move(what), "/hooks/paypal", h, body, status, std::move(code)};
    };
    const std::string now = rfc3339(std::time(nullptr));
    f.refuse_all({
        delivery("stale transmission time", rfc3339(std::time(nullptr) - 400), 401,
                 "stale_timestamp"),
        delivery("missing signature", now, 400, "missing_signature", "PAYPAL-TRANSMISSION-SIG"),
        delivery("missing certificate URL", now, 400, "missing_signature", "PAYPAL-CERT-URL"),
    });
}
