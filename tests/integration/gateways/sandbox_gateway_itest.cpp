// The sandbox gateway against a real PostgreSQL: test cards decide outcomes, every operation
// is one row per idempotency key, and lookups resolve the simulated timeouts.
#include "gateways/sandbox/sandbox_gateway.hpp"

#include <doctest/doctest.h>

#include <thread>
#include <vector>

#include "engine/core/error.hpp"
#include "tests/integration/gateways/gateway_fixture.hpp"

using namespace artistsaid;
using namespace artistsaid::gateways;
using artistsaid::test::in_seconds;

namespace {

ChargeRequest charge_of(const std::string& key, const std::string& card, std::int64_t cents,
                        const char* currency = "EUR") {
    ChargeRequest request;
    request.idempotency_key = key;
    request.deadline = in_seconds(10);
    request.amount = Money(cents, Currency::from_code(currency));
    request.customer_reference = "sbx_cus_test";
    request.payment_method_reference = card;
    request.description = "invoice " + key;
    return request;
}

}  // namespace

TEST_CASE("Gateways.Sandbox.RepeatedKeyReturnsTheFirstResultAndChargesOnce") {
    test::GatewayDatabase db;
    SandboxGateway sandbox(db.url());
    auto first = sandbox.charge(charge_of("run1:charge:0", "4242424242424242", 1999));
    CHECK(first.status == OperationStatus::kSucceeded);
    CHECK(first.provider_id.rfind("sbx_ch_", 0) == 0);
    REQUIRE(first.amount.has_value());
    CHECK(*first.amount == Money(1999, Currency::from_code("EUR")));
    auto again = sandbox.charge(charge_of("run1:charge:0", "4242424242424242", 1999));
    CHECK(again.status == OperationStatus::kSucceeded);
    CHECK(again.provider_id == first.provider_id);
    CHECK(db.count("SELECT count(*) FROM sandbox_operations WHERE kind = 'charge'") == 1);

    // The same key with another amount is refused, and still nothing is charged twice.
    auto other = sandbox.charge(charge_of("run1:charge:0", "4242424242424242", 2999));
    CHECK(other.status == OperationStatus::kFailed);
    CHECK_FALSE(other.retryable);
    CHECK(other.error.find("other parameters") != std::string::npos);
    CHECK(db.count("SELECT count(*) FROM sandbox_operations WHERE kind = 'charge'") == 1);
}

TEST_CASE("Gateways.Sandbox.TestCardsDecideTheOutcome") {
    test::GatewayDatabase db;
    SandboxGateway sandbox(db.url());
    struct Case {
        const char* card;
        OperationStatus status;
        const char* decline_code;
    };
    const Case cases[] = {
        {"4000000000000002", OperationStatus::kDeclined, "card_declined"},
        {"4000000000009995", OperationStatus::kDeclined, "insufficient_funds"},
        {"4000000000000069", OperationStatus::kDeclined, "expired_card"},
        {"4000000000000127", OperationStatus::kDeclined, "incorrect_cvc"},
        {"4111111111111111", OperationStatus::kDeclined, "invalid_number"},
        {"4000002500003155", OperationStatus::kRequiresAction, ""},
        {"4000000000000077", OperationStatus::kPending, ""},
        {"5555555555554444", OperationStatus::kSucceeded, ""},
    };
    int n = 0;
    for (const auto& c : cases) {
        CAPTURE(c.card);
        auto result = sandbox.charge(charge_of("k" + std::to_string(n++), c.card, 500));
        CHECK(result.status == c.status);
        CHECK(result.decline_code == c.decline_code);
    }
    auto failed = sandbox.charge(charge_of("processing", "4000000000000119", 500));
    CHECK(failed.status == OperationStatus::kFailed);
    CHECK(failed.retryable);
    CHECK_FALSE(failed.is_final());
    CHECK(db.count("SELECT count(*) FROM sandbox_operations") == 9);
}

TEST_CASE("Gateways.Sandbox.LostAnswerIsUnknownAndLookupFindsTheCharge") {
    test::GatewayDatabase db;
    SandboxGateway sandbox(db.url());
    auto result = sandbox.charge(charge_of("lost", "4000000000000341", 1200));
    CHECK(result.status == OperationStatus::kUnknown);
    CHECK(result.provider_id.empty());
    CHECK(db.count("SELECT count(*) FROM sandbox_operations WHERE kind = 'charge'") == 1);

    LookupRequest lookup{OperationKind::kCharge, "lost", "", in_seconds(5)};
    auto found = sandbox.lookup(lookup);
    REQUIRE(found.has_value());
    CHECK(found->status == OperationStatus::kSucceeded);
    CHECK(found->provider_id.rfind("sbx_ch_", 0) == 0);
    auto by_id = sandbox.lookup(LookupRequest{OperationKind::kCharge, "", found->provider_id,
                                              in_seconds(5)});
    REQUIRE(by_id.has_value());
    CHECK(by_id->status == OperationStatus::kSucceeded);
    // The same charge looked up as a refund is not found.
    CHECK_FALSE(sandbox.lookup(LookupRequest{OperationKind::kRefund, "lost", "", in_seconds(5)})
                    .has_value());
}

TEST_CASE("Gateways.Sandbox.TimeoutBeforeTheProviderLeavesNothingToFind") {
    test::GatewayDatabase db;
    SandboxGateway sandbox(db.url());
    auto result = sandbox.charge(charge_of("never", "4000000000000259", 1200));
    CHECK(result.status == OperationStatus::kUnknown);
    CHECK_FALSE(sandbox.lookup(LookupRequest{OperationKind::kCharge, "never", "", in_seconds(5)})
                    .has_value());
    CHECK(db.count("SELECT count(*) FROM sandbox_operations") == 0);
}

TEST_CASE("Gateways.Sandbox.ConcurrentCallsWithOneKeyChargeOnce") {
    test::GatewayDatabase db;
    SandboxGateway sandbox(db.url());
    for (int threads : {2, 8}) {
        CAPTURE(threads);
        std::string key = "concurrent-" + std::to_string(threads);
        std::vector<std::string> ids(static_cast<std::size_t>(threads));
        std::vector<std::thread> pool;
        for (int i = 0; i < threads; ++i) {
            pool.emplace_back([&, i] {
                ids[static_cast<std::size_t>(i)] =
                    sandbox.charge(charge_of(key, "4242424242424242", 700)).provider_id;
            });
        }
        for (auto& t : pool) t.join();
        for (const auto& id : ids) CHECK(id == ids.front());
        CHECK(db.count("SELECT count(*) FROM sandbox_operations WHERE idempotency_key = '" + key +
                       "'") == 1);
    }
}

TEST_CASE("Gateways.Sandbox.RefundsNeverExceedTheCharge") {
    test::GatewayDatabase db;
    SandboxGateway sandbox(db.url());
    auto charge = sandbox.charge(charge_of("c", "4242424242424242", 1000));
    REQUIRE(charge.status == OperationStatus::kSucceeded);
    RefundRequest partial;
    partial.idempotency_key = "r1";
    partial.deadline = in_seconds(10);
    partial.charge_reference = charge.provider_id;
    partial.amount = Money(300, Currency::from_code("EUR"));
    auto r1 = sandbox.refund(partial);
    CHECK(r1.status == OperationStatus::kSucceeded);
    CHECK(sandbox.refund(partial).provider_id == r1.provider_id);  // replayed, not repeated

    RefundRequest too_much = partial;
    too_much.idempotency_key = "r2";
    too_much.amount = Money(800, Currency::from_code("EUR"));
    auto r2 = sandbox.refund(too_much);
    CHECK(r2.status == OperationStatus::kFailed);
    CHECK(r2.error.find("exceeds the 7.00 EUR left") != std::string::npos);

    RefundRequest rest = partial;
    rest.idempotency_key = "r3";
    rest.amount.reset();
    auto r3 = sandbox.refund(rest);
    CHECK(r3.status == OperationStatus::kSucceeded);
    REQUIRE(r3.amount.has_value());
    CHECK(r3.amount->minor_units() == 700);
    CHECK(db.count("SELECT coalesce(sum(amount), 0) FROM sandbox_operations WHERE kind = "
                   "'refund' AND status = 'succeeded'") == 1000);
}

TEST_CASE("Gateways.Sandbox.PaymentMethodsAndPayouts") {
    test::GatewayDatabase db;
    SandboxGateway sandbox(db.url());
    CustomerRequest customer;
    customer.idempotency_key = "cus";
    customer.deadline = in_seconds(10);
    customer.name = "Ada Studio";
    auto cus = sandbox.save_customer(customer);
    CHECK(cus.reference.rfind("sbx_cus_", 0) == 0);
    CHECK(sandbox.save_customer(customer).reference == cus.reference);

    PaymentMethodRequest pm;
    pm.idempotency_key = "pm";
    pm.deadline = in_seconds(10);
    pm.customer_reference = cus.reference;
    pm.token = "4000000000009995";
    auto method = sandbox.save_payment_method(pm);
    CHECK(method.last4 == "9995");
    auto declined = sandbox.charge(charge_of("via-pm", method.reference, 100));
    CHECK(declined.status == OperationStatus::kDeclined);
    CHECK(declined.decline_code == "insufficient_funds");
    pm.idempotency_key = "pm2";
    pm.token = "1234";
    CHECK_THROWS_AS(sandbox.save_payment_method(pm), WorkError);

    TransferRequest payout;
    payout.idempotency_key = "po";
    payout.deadline = in_seconds(10);
    payout.kind = OperationKind::kPayout;
    payout.amount = Money(5000, Currency::from_code("EUR"));
    payout.destination = "DE89370400440532013000";
    auto sent = sandbox.transfer(payout);
    CHECK(sent.status == OperationStatus::kPending);
    auto settled = sandbox.lookup(LookupRequest{OperationKind::kPayout, "po", "", in_seconds(5)});
    REQUIRE(settled.has_value());
    CHECK(settled->status == OperationStatus::kSucceeded);

    payout.idempotency_key = "po-bad";
    payout.destination = "acct_sandbox_fail";
    payout.kind = OperationKind::kTransfer;
    CHECK(sandbox.transfer(payout).status == OperationStatus::kFailed);
    payout.amount = Money(0, Currency::from_code("EUR"));
    CHECK_THROWS_AS(sandbox.transfer(payout), InputError);
}
