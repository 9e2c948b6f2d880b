// Webhook verifiers and signing helpers without a network: published HMAC test vectors
// (RFC 4231, RFC 2202), and each verifier's accept/refuse rules on hand-built requests.
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "engine/http/generic_webhook_verifier.hpp"
#include "engine/http/signing.hpp"
#include "engine/http/stripe_webhook_verifier.hpp"
#include "engine/http/twilio_webhook_verifier.hpp"

using namespace artistsaid::http;

namespace {

long long now_s() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

Request post(const std::string& body) {
    Request r{boost::beast::http::verb::post, "/hooks/x", 11};
    r.body() = body;
    return r;
}

unsigned refusal(const WebhookVerifier& v, const Request& r, const std::string& url = {}) {
    try {
        v.verify(r, url);
    } catch (const WebhookRejected& e) {
        return e.status();
    }
    return 0;
}

}  // namespace

TEST_CASE("Http.Signing.PublishedHmacVectors") {
    CHECK(to_hex(hmac_sha256("Jefe", "what do ya want for nothing?")) ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    CHECK(to_hex(hmac_sha1("Jefe", "what do ya want for nothing?")) ==
          "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    CHECK(base64_encode("foobar") == "Zm9vYmFy");
    CHECK(base64_encode("fo") == "Zm8=");
    CHECK(constant_time_equal("abc", "abc"));
    CHECK(!constant_time_equal("abc", "abd"));
    CHECK(!constant_time_equal("abc", "ab"));
    CHECK(random_bytes(24).size() == 24);
    CHECK(random_bytes(16) != random_bytes(16));
}

TEST_CASE("Http.Stripe.SignatureToleranceAndPayload") {
    StripeWebhookVerifier v("whsec_x", std::chrono::seconds(300));
    const std::string body = R"({"id":"evt_9","type":"charge.succeeded","data":{"object":{"id":"ch_1"}}})";
    auto t = std::to_string(now_s());
    auto r = post(body);
    r.set("Stripe-Signature", "t=" + t + ",v1=" + to_hex(hmac_sha256("whsec_x", t + "." + body)));
    auto e = v.verify(r, "");
    CHECK(e.id == "evt_9");
    CHECK(e.type == "charge.succeeded");
    CHECK(e.key == "ch_1");
    r.set("Stripe-Signature", "t=" + t + ",v1=" + to_hex(hmac_sha256("other", t + "." + body)));
    CHECK(refusal(v, r) == 401);
    auto old = std::to_string(now_s() - 301);
    r.set("Stripe-Signature", "t=" + old + ",v1=" + to_hex(hmac_sha256("whsec_x", old + "." + body)));
    CHECK(refusal(v, r) == 401);
    r.set("Stripe-Signature", "v1=abc");
    CHECK(refusal(v, r) == 400);
    CHECK(refusal(v, post(body)) == 400);
}

TEST_CASE("Http.Twilio.FormParsingAndSignature") {
    auto form = parse_form("b=2&a=hello+world&c=%2B1%26&empty=&flag");
    REQUIRE(form.size() == 5);
    CHECK(form[1] == std::pair<std::string, std::string>{"a", "hello world"});
    CHECK(form[2].second == "+1&");
    CHECK(form[3].second.empty());
    CHECK(form[4].first == "flag");
    CHECK_THROWS(parse_form("a=%zz"));
    CHECK_THROWS(parse_form("a=%4"));

    TwilioWebhookVerifier v("token");
    const std::string url = "https://example.test/hooks/twilio?x=1";
    auto r = post("MessageSid=SM1&MessageStatus=sent&Body=hi+there");
    r.set("X-Twilio-Signature",
          base64_encode(hmac_sha1("token", url + "Bodyhi thereMessageSidSM1MessageStatussent")));
    auto e = v.verify(r, url);
    CHECK(e.type == "message.sent");
    CHECK(e.key == "SM1");
    CHECK(e.id == "SM1:sent");
    CHECK(refusal(v, r, "https://example.test/hooks/twilio") == 401);  // another URL
}

TEST_CASE("Http.Generic.TimestampDotBody") {
    GenericWebhookVerifier v("partner", "s3cret", std::chrono::seconds(60));
    const std::string body = R"({"id":"e1","type":"thing.done","key":"k"})";
    auto t = std::to_string(now_s());
    auto r = post(body);
    r.set("X-Webhook-Timestamp", t);
    r.set("X-Webhook-Signature", "sha256=" + to_hex(hmac_sha256("s3cret", t + "." + body)));
    CHECK(v.verify(r, "").key == "k");
    r.set("X-Webhook-Timestamp", std::to_string(now_s() - 61));
    CHECK(refusal(v, r) == 401);
    r.set("X-Webhook-Timestamp", "yesterday");
    CHECK(refusal(v, r) == 400);
}
