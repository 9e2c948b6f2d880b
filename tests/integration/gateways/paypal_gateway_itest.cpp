// PayPalGateway against a local PayPal API (tests/support/servers/paypal_server.py).
#include "gateways/paypal/paypal_gateway.hpp"

#include <doctest/doctest.h>

#include <regex>

#include "engine/core/digest.hpp"
#include "engine/core/error.hpp"
#include "gateways/gateway_registry.hpp"
#include "gateways/reconcile/payment_reconciler.hpp"
#include "tests/integration/gateways/gateway_fixture.hpp"
#include "tests/support/local_server.hpp"

using namespace artistsaid;
using namespace artistsaid::gateways;
using artistsaid::test::in_seconds;

namespace {

constexpr const char* kClientId = "AZlocalClientId0123";
constexpr const char* kSecret = "ELlocalSecret0123456789";

struct PayPalFixture {
    PayPalFixture() : server("paypal_server.py", {kClientId, kSecret}) {}

    PayPalSettings settings() const {
        PayPalSettings s;
        s.base_url = server.base_url();
        s.client_id = kClientId;
        s.client_secret = kSecret;
        s.retry.base_delay = std::chrono::milliseconds(10);
        return s;
    }

    http::HttpResponse control(const std::string& method, const std::string& path,
                               const nlohmann::json& body = nullptr) const {
        http::HttpRequest request;
        request.method = method;
        request.url = server.base_url() + path;
        if (!body.is_null()) request.json(body);
        return http::HttpClient::shared().send(request);
    }
    void fault(const nlohmann::json& f) const { REQUIRE(control("POST", "/__control/fault", f).ok()); }
    int count(const std::string& kind) const {
        return control("GET", "/__control/count?kind=" + kind).json()["count"].get<int>();
    }
    nlohmann::json requests(const std::string& path_regex) const {
        auto result = nlohmann::json::array();
        for (const auto& r : control("GET", "/__control/requests").json()) {
            if (std::regex_match(r["path"].get<std::string>(), std::regex(path_regex))) {
                result.push_back(r);
            }
        }
        return result;
    }
    http::HttpResponse raw(const std::string& method, const std::string& path,
                           const std::string& body, const http::HeaderList& headers) const {
        http::HttpRequest request;
        request.method = method;
        request.url = server.base_url() + path;
        for (const auto& [k, v] : headers) request.header(k, v);
        request.body = body;
        return http::HttpClient::shared().send(request);
    }

    test::LocalServer server;
};

ChargeRequest charge_of(const std::string& key, Money amount,
                        const std::string& pm = "paypal:vault-ok-1") {
    ChargeRequest request;
    request.idempotency_key = key;
    request.deadline = in_seconds(20);
    request.amount = amount;
    request.payment_method_reference = pm;
    request.description = "Invoice INV-7";
    request.metadata = {{"invoice_number", "INV-7"}};
    return request;
}

Money usd(std::int64_t cents) { return Money(cents, Currency::from_code("USD")); }

}  // namespace

TEST_CASE("Gateways.PayPal.FakeServerRefusesWhatPayPalRefuses") {
    PayPalFixture f;
    auto token = f.raw("POST", "/v1/oauth2/token", "grant_type=client_credentials",
                       {{"Authorization", "Basic " + std::string("d3Jvbmc6d3Jvbmc=")},
                        {"Content-Type", "application/x-www-form-urlencoded"}});
    CHECK(token.status == 401);
    auto no_auth = f.raw("POST", "/v2/checkout/orders", "{}", {{"Content-Type", "application/json"},
                                                              {"PayPal-Request-Id", "x"}});
    CHECK(no_auth.status == 401);

    // With a real token: a missing request id, unknown fields and bad decimals are refused.
    PayPalGateway paypal(f.settings());
    REQUIRE(paypal.charge(charge_of("warm-up", usd(100))).status == OperationStatus::kSucceeded);
    // base64("AZlocalClientId0123:ELlocalSecret0123456789")
    const std::string basic = "Basic QVpsb2NhbENsaWVudElkMDEyMzpFTGxvY2FsU2VjcmV0MDEyMzQ1Njc4OQ==";
    auto tokens = f.raw("POST", "/v1/oauth2/token", "grant_type=client_credentials",
                        {{"Authorization", basic},
                         {"Content-Type", "application/x-www-form-urlencoded"}});
    REQUIRE(tokens.status == 200);
    std::string bearer = "Bearer " + tokens.json()["access_token"].get<std::string>();
    http::HeaderList json{{"Authorization", bearer}, {"Content-Type", "application/json"}};
    std::string order = R"({"intent":"CAPTURE","purchase_units":[{"amount":{"currency_code":"USD","value":"1.00"}}],"payment_source":{"paypal":{"vault_id":"v1"}}})";
    CHECK(f.raw("POST", "/v2/checkout/orders", order, json).status == 400);  // no request id
    auto with_id = json;
    with_id.emplace_back("PayPal-Request-Id", "raw-1");
    CHECK(f.raw("POST", "/v2/checkout/orders", order, with_id).status == 201);
    with_id.back().second = "raw-2";
    std::string unknown = R"({"intent":"CAPTURE","purchase_unit":[]})";
    CHECK(f.raw("POST", "/v2/checkout/orders", unknown, with_id).status == 400);
    with_id.back().second = "raw-3";
    std::string yen_cents = R"({"intent":"CAPTURE","purchase_units":[{"amount":{"currency_code":"JPY","value":"1200.00"}}],"payment_source":{"paypal":{"vault_id":"v1"}}})";
    CHECK(f.raw("POST", "/v2/checkout/orders", yen_cents, with_id).status == 422);
    CHECK(f.raw("GET", "/v2/checkout/nothing", "", json).status == 404);
}

TEST_CASE("Gateways.PayPal.ChargeCreatesAndCapturesAnOrderWithOneCachedToken") {
    PayPalFixture f;
    PayPalGateway paypal(f.settings());
    auto result = paypal.charge(charge_of("run-9:charge:0", usd(1999)));
    CHECK(result.status == OperationStatus::kSucceeded);
    CHECK(result.provider_id.rfind("ORD", 0) == 0);
    REQUIRE(result.amount.has_value());
    CHECK(*result.amount == usd(1999));
    auto creates = f.requests("/v2/checkout/orders");
    REQUIRE(creates.size() == 1);
    CHECK(creates[0]["request_id"] == "run-9:charge:0:create");
    auto body = nlohmann::json::parse(creates[0]["body"].get<std::string>());
    CHECK(body["intent"] == "CAPTURE");
    CHECK(body["purchase_units"][0]["amount"]["value"] == "19.99");
    CHECK(body["purchase_units"][0]["invoice_id"] == "INV-7");
    CHECK(body["payment_source"]["paypal"]["vault_id"] == "vault-ok-1");
    auto captures = f.requests("/v2/checkout/orders/.*/capture");
    REQUIRE(captures.size() == 1);
    CHECK(captures[0]["request_id"] == "run-9:charge:0:capture");

    // Again with the same key: the same order, nothing captured twice; still one token.
    auto again = paypal.charge(charge_of("run-9:charge:0", usd(1999)));
    CHECK(again.provider_id == result.provider_id);
    CHECK(again.status == OperationStatus::kSucceeded);
    CHECK(f.count("capture") == 1);
    CHECK(f.count("order") == 1);
    CHECK(f.count("token") == 1);

    // A card vaulted for instant capture completes at creation: no capture call.
    auto instant = paypal.charge(charge_of("instant", usd(500), "card:vault-instant-1"));
    CHECK(instant.status == OperationStatus::kSucceeded);
    CHECK(f.requests("/v2/checkout/orders/.*/capture").size() == 2);  // the two above only
}

TEST_CASE("Gateways.PayPal.AmountsAreDecimalStringsWithTheCurrencyExponent") {
    PayPalFixture f;
    PayPalGateway paypal(f.settings());
    CHECK(PayPalGateway::amount_value(usd(5)) == "0.05");
    CHECK(PayPalGateway::amount_value(Money(1200, Currency::from_code("JPY"))) == "1200");
    CHECK(PayPalGateway::amount_value(Money(1250, Currency::from_code("KWD"))) == "1.250");
    CHECK(PayPalGateway::amount_value(Money(150000, Currency::from_code("HUF"))) == "1500");
    CHECK_THROWS_AS(PayPalGateway::amount_value(Money(150050, Currency::from_code("HUF"))),
                    InputError);
    auto yen = paypal.charge(charge_of("jpy", Money(1200, Currency::from_code("JPY"))));
    CHECK(yen.status == OperationStatus::kSucceeded);
    CHECK(*yen.amount == Money(1200, Currency::from_code("JPY")));
    auto body = nlohmann::json::parse(f.requests("/v2/checkout/orders")[0]["body"].get<std::string>());
    CHECK(body["purchase_units"][0]["amount"]["value"] == "1200");
    // PayPal does not take KWD: refused by the provider, not retried.
    auto dinar = paypal.charge(charge_of("kwd", Money(1250, Currency::from_code("KWD"))));
    CHECK(dinar.status == OperationStatus::kFailed);
    CHECK_FALSE(dinar.retryable);
    CHECK(dinar.error.find("CURRENCY_NOT_SUPPORTED") != std::string::npos);
}

TEST_CASE("Gateways.PayPal.DeclinesAndPayerAction") {
    PayPalFixture f;
    PayPalGateway paypal(f.settings());
    auto declined = paypal.charge(charge_of("d", usd(100), "card:vault-declined-1"));
    CHECK(declined.status == OperationStatus::kDeclined);
    CHECK(declined.decline_code == "instrument_declined");
    CHECK(declined.provider_id.rfind("ORD", 0) == 0);
    auto action = paypal.charge(charge_of("a", usd(100), "paypal:vault-payer-action"));
    CHECK(action.status == OperationStatus::kRequiresAction);
    CHECK(f.count("capture") == 0);
    CHECK_THROWS_AS(paypal.charge(charge_of("x", usd(100), "bank:123")), InputError);
}

TEST_CASE("Gateways.PayPal.RetryAfter500ReusesTheRequestId") {
    PayPalFixture f;
    PayPalGateway paypal(f.settings());
    f.fault({{"path", "/v2/checkout/orders/.*/capture"}, {"status", 500}, {"times", 1}});
    auto result = paypal.charge(charge_of("flaky", usd(700)));
    CHECK(result.status == OperationStatus::kSucceeded);
    auto captures = f.requests("/v2/checkout/orders/.*/capture");
    REQUIRE(captures.size() == 2);
    CHECK(captures[0]["request_id"] == "flaky:capture");
    CHECK(captures[1]["request_id"] == "flaky:capture");
    CHECK(f.count("capture") == 1);
}

TEST_CASE("Gateways.PayPal.LostCaptureIsUnknownAndTheReconcilerResolvesItByOrder") {
    PayPalFixture f;
    auto settings = f.settings();
    settings.retry.attempt_timeout = std::chrono::seconds(1);
    settings.retry.max_attempts = 2;
    GatewayRegistry registry;
    registry.add(std::make_unique<PayPalGateway>(settings));
    f.fault({{"path", "/v2/checkout/orders/.*/capture"}, {"timeout", 3}, {"times", 2}});
    auto result = registry.get("paypal").charge(charge_of("lost", usd(4200)));
    CHECK(result.status == OperationStatus::kUnknown);
    CHECK(result.provider_id.rfind("ORD", 0) == 0);
    CHECK(f.count("capture") == 1);

    test::GatewayDatabase db;
    auto invoice = db.unpaid_invoice(4200, "USD", "INV-PP");
    db.exec("INSERT INTO payments (invoice_id, gateway, gateway_reference, idempotency_key, amount, "
            "currency, status, created_at) VALUES (" + std::to_string(invoice) + ", 'paypal', '" +
            result.provider_id + "', 'lost', 4200, 'USD', 'unknown', now() - interval '5 minutes')");
    PaymentReconciler reconciler(db.url(), registry);
    auto report = reconciler.run_once();
    CHECK(report.resolved == 1);
    CHECK(db.text("SELECT status FROM payments WHERE idempotency_key = 'lost'") == "succeeded");
    CHECK(f.count("capture") == 1);
    CHECK(f.requests("/v2/checkout/orders/.*/capture").size() == 2);  // no new capture
}

TEST_CASE("Gateways.PayPal.ARevokedTokenIsRenewedOnce") {
    PayPalFixture f;
    PayPalGateway paypal(f.settings());
    REQUIRE(paypal.charge(charge_of("t1", usd(100))).status == OperationStatus::kSucceeded);
    REQUIRE(f.control("POST", "/__control/revoke").ok());
    CHECK(paypal.charge(charge_of("t2", usd(100))).status == OperationStatus::kSucceeded);
    CHECK(f.count("token") == 2);
    auto wrong = f.settings();
    wrong.client_secret = "not-the-secret-123";
    PayPalGateway bad(wrong);
    try {
        bad.charge(charge_of("t3", usd(100)));
        FAIL("expected an error");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find("not-the-secret-123") == std::string::npos);
    }
}

TEST_CASE("Gateways.PayPal.RefundsPayoutsAndLookups") {
    PayPalFixture f;
    PayPalGateway paypal(f.settings());
    auto paid = paypal.charge(charge_of("c", usd(1000)));
    REQUIRE(paid.status == OperationStatus::kSucceeded);
    RefundRequest refund;
    refund.idempotency_key = "r1";
    refund.deadline = in_seconds(10);
    refund.charge_reference = paid.provider_id;
    refund.amount = usd(300);
    auto r1 = paypal.refund(refund);
    CHECK(r1.status == OperationStatus::kSucceeded);
    refund.idempotency_key = "r2";
    refund.amount = usd(800);
    auto too_much = paypal.refund(refund);
    CHECK(too_much.status == OperationStatus::kFailed);
    CHECK(too_much.error.find("REFUND_AMOUNT_EXCEEDED") != std::string::npos);
    auto found = paypal.lookup({OperationKind::kRefund, "", r1.provider_id, in_seconds(10)});
    REQUIRE(found.has_value());
    CHECK(*found->amount == usd(300));

    TransferRequest payout;
    payout.idempotency_key = "payout:artist-3";
    payout.deadline = in_seconds(10);
    payout.kind = OperationKind::kPayout;
    payout.amount = Money(5000, Currency::from_code("JPY"));
    payout.destination = "artist3@example.test";
    auto sent = paypal.transfer(payout);
    CHECK(sent.status == OperationStatus::kPending);
    CHECK(sent.provider_id.rfind("PB", 0) == 0);
    auto posted = f.requests("/v1/payments/payouts");
    REQUIRE(posted.size() == 1);
    CHECK(posted[0]["request_id"] == "payout:artist-3");
    auto body = nlohmann::json::parse(posted[0]["body"].get<std::string>());
    CHECK(body["sender_batch_header"]["sender_batch_id"] ==
          "batch-" + sha256_hex("payout:artist-3").substr(0, 32));
    CHECK(body["items"][0]["amount"]["value"] == "5000");
    CHECK(body["items"][0]["amount"]["currency"] == "JPY");
    CHECK(paypal.transfer(payout).provider_id == sent.provider_id);  // replayed
    CHECK(f.count("payout") == 1);
    auto first = paypal.lookup({OperationKind::kPayout, "", sent.provider_id, in_seconds(10)});
    REQUIRE(first.has_value());
    CHECK(first->status == OperationStatus::kPending);
    auto second = paypal.lookup({OperationKind::kPayout, "", sent.provider_id, in_seconds(10)});
    CHECK(second->status == OperationStatus::kSucceeded);

    CHECK_FALSE(paypal.lookup({OperationKind::kCharge, "", "ORDnope", in_seconds(10)}).has_value());
    CHECK_THROWS_AS(paypal.lookup({OperationKind::kCharge, "c", "", in_seconds(10)}), InputError);
    payout.kind = OperationKind::kTransfer;
    CHECK_THROWS_AS(paypal.transfer(payout), InputError);
}
