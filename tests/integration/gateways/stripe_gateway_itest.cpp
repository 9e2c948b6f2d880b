// StripeGateway against a local Stripe API (tests/support/servers/stripe_server.py) that
// refuses what Stripe refuses and replays the first response for a repeated Idempotency-Key.
#include "gateways/stripe/stripe_gateway.hpp"

#include <doctest/doctest.h>

#include <mutex>
#include <vector>

#include "engine/core/error.hpp"
#include "engine/http/http_client.hpp"
#include "gateways/gateway_registry.hpp"
#include "gateways/reconcile/payment_reconciler.hpp"
#include "tests/integration/gateways/gateway_fixture.hpp"
#include "tests/support/local_server.hpp"

using namespace artistsaid;
using namespace artistsaid::gateways;
using artistsaid::test::in_seconds;

namespace {

constexpr const char* kKey = "sk_test_local_4eC39HqLyjWDarjtT1zdp7dc";

struct StripeFixture {
    StripeFixture() : server("stripe_server.py", {kKey}) {}

    StripeSettings settings() const {
        StripeSettings s;
        s.base_url = server.base_url();
        s.api_key = kKey;
        s.base_delay = std::chrono::milliseconds(10);
        return s;
    }

    StripeGateway gateway() {
        return StripeGateway(settings(), http::HttpClient::shared(),
                             [this](std::chrono::milliseconds d) {
                                 std::lock_guard lock(mutex);
                                 sleeps.push_back(d);
                             });
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

    nlohmann::json requests(const std::string& path) const {
        auto all = control("GET", "/__control/requests").json();
        auto result = nlohmann::json::array();
        for (const auto& r : all) {
            if (r["path"] == path) result.push_back(r);
        }
        return result;
    }

    int count(const std::string& kind) const {
        return control("GET", "/__control/count?kind=" + kind).json()["count"].get<int>();
    }

    // A raw call to the fake Stripe, to prove what it refuses.
    http::HttpResponse raw(const std::string& method, const std::string& path,
                           const http::HeaderList& form, const http::HeaderList& headers) const {
        http::HttpRequest request;
        request.method = method;
        request.url = server.base_url() + path;
        for (const auto& [k, v] : headers) request.header(k, v);
        if (method == "POST") request.form(form);
        return http::HttpClient::shared().send(request);
    }

    test::LocalServer server;
    std::mutex mutex;
    std::vector<std::chrono::milliseconds> sleeps;
};

ChargeRequest charge_of(const std::string& key, Money amount,
                        const std::string& pm = "pm_card_visa") {
    ChargeRequest request;
    request.idempotency_key = key;
    request.deadline = in_seconds(20);
    request.amount = amount;
    request.customer_reference = "";
    request.payment_method_reference = pm;
    request.description = "Invoice INV-1";
    request.metadata = {{"invoice_id", "1"}};
    return request;
}

Money eur(std::int64_t cents) { return Money(cents, Currency::from_code("EUR")); }

}  // namespace

TEST_CASE("Gateways.Stripe.FakeServerRefusesWhatStripeRefuses") {
    StripeFixture f;
    http::HeaderList good{{"Authorization", std::string("Bearer ") + kKey},
                          {"Stripe-Version", "2023-08-16"},
                          {"Idempotency-Key", "raw-1"}};
    http::HeaderList form{{"amount", "100"}, {"currency", "eur"}};
    CHECK(f.raw("POST", "/v1/payment_intents", form, good).status == 200);
    auto without = [&](const std::string& name) {
        http::HeaderList h;
        for (const auto& kv : good) {
            if (kv.first != name) h.push_back(kv);
        }
        return h;
    };
    CHECK(f.raw("POST", "/v1/payment_intents", form, without("Authorization")).status == 401);
    CHECK(f.raw("POST", "/v1/payment_intents", form, without("Stripe-Version")).status == 400);
    auto no_key = f.raw("POST", "/v1/payment_intents", form, without("Idempotency-Key"));
    CHECK(no_key.status == 400);
    CHECK(no_key.body.find("Idempotency-Key") != std::string::npos);
    auto unknown = f.raw("POST", "/v1/payment_intents", {{"amount", "100"}, {"currency", "eur"},
                                                         {"amout", "1"}}, good);
    CHECK(unknown.status == 400);
    CHECK(unknown.json()["error"]["param"] == "amout");
    auto missing = f.raw("POST", "/v1/payment_intents", {{"amount", "100"}},
                         {{"Authorization", std::string("Bearer ") + kKey},
                          {"Stripe-Version", "2023-08-16"}, {"Idempotency-Key", "raw-2"}});
    CHECK(missing.status == 400);
    CHECK(missing.json()["error"]["code"] == "parameter_missing");
    CHECK(f.raw("POST", "/v1/charge", form, good).status == 404);
    // The same key with other parameters is an idempotency error; with the same, a replay.
    auto other = f.raw("POST", "/v1/payment_intents", {{"amount", "200"}, {"currency", "eur"}}, good);
    CHECK(other.status == 400);
    CHECK(other.json()["error"]["type"] == "idempotency_error");
    auto replay = f.raw("POST", "/v1/payment_intents", form, good);
    CHECK(replay.status == 200);
    CHECK(replay.header("idempotent-replayed") == "true");
    CHECK(f.count("payment_intent") == 1);
}

TEST_CASE("Gateways.Stripe.ChargeIsAnOffSessionPaymentIntentWithTheStepKey") {
    StripeFixture f;
    auto stripe = f.gateway();
    auto result = stripe.charge(charge_of("run-1:charge:0", eur(1999)));
    CHECK(result.status == OperationStatus::kSucceeded);
    CHECK(result.provider_id.rfind("pi_", 0) == 0);
    REQUIRE(result.amount.has_value());
    CHECK(*result.amount == eur(1999));
    auto sent = f.requests("/v1/payment_intents");
    REQUIRE(sent.size() == 1);
    CHECK(sent[0]["idempotency_key"] == "run-1:charge:0");
    const auto& p = sent[0]["params"];
    CHECK(p["amount"] == "1999");
    CHECK(p["currency"] == "eur");
    CHECK(p["confirm"] == "true");
    CHECK(p["off_session"] == "true");
    CHECK(p["payment_method"] == "pm_card_visa");
    CHECK(p["metadata"]["idempotency_key"] == "run-1:charge:0");
    CHECK(p["metadata"]["invoice_id"] == "1");

    // Charging again with the key returns the same PaymentIntent: one charge at Stripe.
    auto again = stripe.charge(charge_of("run-1:charge:0", eur(1999)));
    CHECK(again.provider_id == result.provider_id);
    CHECK(f.count("payment_intent") == 1);
}

TEST_CASE("Gateways.Stripe.ZeroAndThreeDecimalCurrencies") {
    StripeFixture f;
    auto stripe = f.gateway();
    auto yen = stripe.charge(charge_of("jpy", Money(1200, Currency::from_code("JPY"))));
    CHECK(yen.status == OperationStatus::kSucceeded);
    CHECK(*yen.amount == Money(1200, Currency::from_code("JPY")));
    auto dinar = stripe.charge(charge_of("kwd", Money(1250, Currency::from_code("KWD"))));
    CHECK(dinar.status == OperationStatus::kSucceeded);
    auto sent = f.requests("/v1/payment_intents");
    REQUIRE(sent.size() == 2);
    CHECK(sent[0]["params"]["amount"] == "1200");
    CHECK(sent[0]["params"]["currency"] == "jpy");
    CHECK(sent[1]["params"]["amount"] == "1250");
    CHECK(sent[1]["params"]["currency"] == "kwd");
    // 1.255 KWD cannot be charged at Stripe: refused before anything is sent.
    CHECK_THROWS_AS(stripe.charge(charge_of("kwd-bad", Money(1255, Currency::from_code("KWD")))),
                    InputError);
    CHECK(f.requests("/v1/payment_intents").size() == 2);
}

TEST_CASE("Gateways.Stripe.DeclineCodesMap") {
    StripeFixture f;
    auto stripe = f.gateway();
    struct Case {
        const char* pm;
        OperationStatus status;
        const char* code;
    };
    const Case cases[] = {
        {"pm_card_chargeDeclinedInsufficientFunds", OperationStatus::kDeclined, "insufficient_funds"},
        {"pm_card_chargeDeclinedExpiredCard", OperationStatus::kDeclined, "expired_card"},
        {"pm_card_chargeDeclined", OperationStatus::kDeclined, "generic_decline"},
        {"pm_card_authenticationRequired", OperationStatus::kRequiresAction,
         "authentication_required"},
    };
    int n = 0;
    for (const auto& c : cases) {
        CAPTURE(c.pm);
        auto result = stripe.charge(charge_of("decline-" + std::to_string(n++), eur(500), c.pm));
        CHECK(result.status == c.status);
        CHECK(result.decline_code == c.code);
        CHECK(result.provider_id.rfind("pi_", 0) == 0);
        CHECK_FALSE(result.retryable);
    }
    // A decline is final: the same key replays it rather than charging again.
    CHECK(stripe.charge(charge_of("decline-0", eur(500), cases[0].pm)).status ==
          OperationStatus::kDeclined);
    CHECK(f.count("payment_intent") == 4);
}

TEST_CASE("Gateways.Stripe.RetryAfter500Or429ReusesTheKey") {
    StripeFixture f;
    auto stripe = f.gateway();
    f.fault({{"path", "/v1/payment_intents"}, {"status", 500}, {"times", 1}});
    f.fault({{"path", "/v1/payment_intents"}, {"status", 429}, {"times", 1}, {"retry_after", 2}});
    auto result = stripe.charge(charge_of("flaky", eur(700)));
    CHECK(result.status == OperationStatus::kSucceeded);
    auto sent = f.requests("/v1/payment_intents");
    REQUIRE(sent.size() == 3);
    for (const auto& r : sent) CHECK(r["idempotency_key"] == "flaky");
    REQUIRE(f.sleeps.size() == 2);
    CHECK(f.sleeps[1] == std::chrono::seconds(2));  // Retry-After honoured
    CHECK(f.count("payment_intent") == 1);
}

TEST_CASE("Gateways.Stripe.ShouldRetryFalseStopsAndPersistentErrorsAreRetryableFailures") {
    StripeFixture f;
    auto stripe = f.gateway();
    f.fault({{"path", "/v1/payment_intents"}, {"status", 500}, {"times", 1},
             {"should_retry", "false"}});
    auto stopped = stripe.charge(charge_of("no-retry", eur(700)));
    CHECK(stopped.status == OperationStatus::kFailed);
    CHECK_FALSE(stopped.retryable);
    CHECK(f.requests("/v1/payment_intents").size() == 1);

    f.fault({{"path", "/v1/payment_intents"}, {"status", 503}, {"times", 5}});
    auto down = stripe.charge(charge_of("down", eur(700)));
    CHECK(down.status == OperationStatus::kFailed);
    CHECK(down.retryable);
    CHECK(f.requests("/v1/payment_intents").size() == 4);  // 1 + the 3 attempts
    CHECK(f.count("payment_intent") == 0);
}

TEST_CASE("Gateways.Stripe.TimeoutIsUnknownAndTheReconcilerFindsTheChargeWithoutASecond") {
    StripeFixture f;
    auto settings = f.settings();
    settings.attempt_timeout = std::chrono::seconds(1);
    settings.max_attempts = 2;
    GatewayRegistry registry;
    registry.add(std::make_unique<StripeGateway>(settings));
    // Every attempt is performed and then its answer is lost.
    f.fault({{"path", "/v1/payment_intents"}, {"timeout", 3}, {"times", 2}});
    auto result = registry.get("stripe").charge(charge_of("lost", eur(4200)));
    CHECK(result.status == OperationStatus::kUnknown);
    auto sent = f.requests("/v1/payment_intents");
    REQUIRE(sent.size() == 2);
    CHECK(sent[0]["idempotency_key"] == "lost");
    CHECK(sent[1]["idempotency_key"] == "lost");
    CHECK(f.count("payment_intent") == 1);

    test::GatewayDatabase db;
    auto invoice = db.unpaid_invoice(4200, "EUR", "INV-LOST");
    db.exec("INSERT INTO payments (invoice_id, gateway, idempotency_key, amount, currency, status, "
            "created_at) VALUES (" + std::to_string(invoice) + ", 'stripe', 'lost', 4200, 'EUR', "
            "'unknown', now() - interval '5 minutes')");
    PaymentReconciler reconciler(db.url(), registry);
    auto report = reconciler.run_once();
    CHECK(report.resolved == 1);
    CHECK(db.text("SELECT status FROM payments WHERE idempotency_key = 'lost'") == "succeeded");
    CHECK(db.text("SELECT gateway_reference FROM payments WHERE idempotency_key = 'lost'")
              .rfind("pi_", 0) == 0);
    CHECK(f.requests("/v1/payment_intents").size() == 2);  // no new POST
    CHECK(f.requests("/v1/payment_intents/search").size() == 1);
    CHECK(f.count("payment_intent") == 1);
}

TEST_CASE("Gateways.Stripe.RefundsTransfersPayoutsAndLookups") {
    StripeFixture f;
    auto stripe = f.gateway();
    auto paid = stripe.charge(charge_of("c", eur(1000)));
    REQUIRE(paid.status == OperationStatus::kSucceeded);

    RefundRequest refund;
    refund.idempotency_key = "r1";
    refund.deadline = in_seconds(10);
    refund.charge_reference = paid.provider_id;
    refund.amount = eur(300);
    refund.reason = "requested_by_customer";
    auto r1 = stripe.refund(refund);
    CHECK(r1.status == OperationStatus::kSucceeded);
    CHECK(r1.provider_id.rfind("re_", 0) == 0);
    refund.idempotency_key = "r2";
    refund.amount = eur(800);
    auto too_much = stripe.refund(refund);
    CHECK(too_much.status == OperationStatus::kFailed);
    CHECK_FALSE(too_much.retryable);
    refund.idempotency_key = "r3";
    refund.amount.reset();
    auto rest = stripe.refund(refund);
    CHECK(rest.status == OperationStatus::kSucceeded);
    CHECK(*rest.amount == eur(700));
    CHECK(f.requests("/v1/refunds")[0]["params"]["reason"] == "requested_by_customer");

    TransferRequest transfer;
    transfer.idempotency_key = "t1";
    transfer.deadline = in_seconds(10);
    transfer.amount = Money(5000, Currency::from_code("JPY"));
    transfer.destination = "acct_1Artist";
    auto tr = stripe.transfer(transfer);
    CHECK(tr.status == OperationStatus::kSucceeded);
    CHECK(f.requests("/v1/transfers")[0]["params"]["amount"] == "5000");
    transfer.idempotency_key = "p1";
    transfer.kind = OperationKind::kPayout;
    transfer.destination.clear();
    transfer.amount = eur(2500);
    auto po = stripe.transfer(transfer);
    CHECK(po.status == OperationStatus::kPending);

    // Lookups by key (search for charges, lists for the rest) and by id.
    auto by_key = stripe.lookup({OperationKind::kCharge, "c", "", in_seconds(10)});
    REQUIRE(by_key.has_value());
    CHECK(by_key->provider_id == paid.provider_id);
    auto refund_by_key = stripe.lookup({OperationKind::kRefund, "r3", "", in_seconds(10)});
    REQUIRE(refund_by_key.has_value());
    CHECK(refund_by_key->provider_id == rest.provider_id);
    auto transfer_by_key = stripe.lookup({OperationKind::kTransfer, "t1", "", in_seconds(10)});
    REQUIRE(transfer_by_key.has_value());
    CHECK(transfer_by_key->provider_id == tr.provider_id);
    auto payout_by_id = stripe.lookup({OperationKind::kPayout, "", po.provider_id, in_seconds(10)});
    REQUIRE(payout_by_id.has_value());
    CHECK(payout_by_id->status == OperationStatus::kPending);
    CHECK_FALSE(stripe.lookup({OperationKind::kCharge, "nope", "", in_seconds(10)}).has_value());
    CHECK_FALSE(stripe.lookup({OperationKind::kRefund, "", "re_missing", in_seconds(10)}).has_value());
    CHECK_THROWS_AS(stripe.transfer([&] {
        auto t = transfer;
        t.kind = OperationKind::kTransfer;
        t.destination = "not-an-account";
        return t;
    }()), InputError);
}

TEST_CASE("Gateways.Stripe.CustomersAndPaymentMethods") {
    StripeFixture f;
    auto stripe = f.gateway();
    CustomerRequest customer;
    customer.idempotency_key = "cus-1";
    customer.deadline = in_seconds(10);
    customer.name = "Ada Studio";
    customer.email = "ada@example.test";
    auto cus = stripe.save_customer(customer);
    CHECK(cus.reference.rfind("cus_", 0) == 0);
    customer.idempotency_key = "cus-1-update";
    customer.reference = cus.reference;
    customer.name = "Ada Studio GmbH";
    CHECK(stripe.save_customer(customer).reference == cus.reference);
    PaymentMethodRequest pm;
    pm.idempotency_key = "pm-1";
    pm.deadline = in_seconds(10);
    pm.customer_reference = cus.reference;
    pm.token = "pm_card_visa";
    pm.make_default = true;
    auto method = stripe.save_payment_method(pm);
    CHECK(method.reference == "pm_card_visa");
    CHECK(method.last4 == "4242");
    CHECK(method.brand == "visa");
    auto updates = f.requests("/v1/customers/" + cus.reference);
    REQUIRE(updates.size() == 2);
    CHECK(updates[1]["params"]["invoice_settings"]["default_payment_method"] == "pm_card_visa");
    CHECK(updates[1]["idempotency_key"] == "pm-1:default");
}

TEST_CASE("Gateways.Stripe.AWrongKeyFailsWithoutShowingIt") {
    StripeFixture f;
    auto settings = f.settings();
    settings.api_key = "sk_test_wrong_key_0123456789";
    StripeGateway stripe(settings);
    auto result = stripe.charge(charge_of("k", eur(100)));
    CHECK(result.status == OperationStatus::kFailed);
    CHECK_FALSE(result.retryable);
    CHECK(result.error.find("401") != std::string::npos);
    CHECK(result.error.find("sk_test_wrong_key_0123456789") == std::string::npos);
    settings.api_key.clear();
    CHECK_THROWS_AS(StripeGateway{settings}, InputError);
}
