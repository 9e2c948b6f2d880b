// PaymentGateway::charge_batch: the default (charge() per request, bounded concurrency) and the
// sandbox's one-transaction batch answer exactly as single charges do, key by key.
#include <doctest/doctest.h>

#include "tests/integration/payments/batch_charge_fixture.hpp"

namespace artistsaid {
namespace {

// The sandbox through the interface's default charge_batch (what Stripe and PayPal use):
// every member but charge_batch forwards to a SandboxGateway.
class PerItemSandbox final : public gateways::PaymentGateway {
public:
    explicit PerItemSandbox(std::string url) : sandbox_(std::move(url)) {}
    std::string_view name() const override { return "sandbox"; }
    gateways::CustomerRef save_customer(const gateways::CustomerRequest& r) override {
        return sandbox_.save_customer(r);
    }
    gateways::PaymentMethodRef save_payment_method(const gateways::PaymentMethodRequest& r) override {
        return sandbox_.save_payment_method(r);
    }
    gateways::GatewayResult charge(const gateways::ChargeRequest& r) override { return sandbox_.charge(r); }
    gateways::GatewayResult refund(const gateways::RefundRequest& r) override { return sandbox_.refund(r); }
    gateways::GatewayResult transfer(const gateways::TransferRequest& r) override {
        return sandbox_.transfer(r);
    }
    std::optional<gateways::GatewayResult> lookup(const gateways::LookupRequest& r) override {
        return sandbox_.lookup(r);
    }

private:
    gateways::SandboxGateway sandbox_;
};

std::vector<gateways::ChargeRequest> requests(const std::string& prefix) {
    const std::vector<std::pair<std::string, long long>> cards{
        {"4242424242424242", 1000},          {"4000000000000002", 1100},
        {"4000000000009995", 1200},          {"4000000000000119", 1300},
        {"4000002500003155", 1400},          {"4000000000000077", 1500},
        {"4000000000000341", 1600},          {"4000000000000259", 1700},
        {"sbx_card_4242424242424242_7", 1800}, {"4242424242424242", 0},  // refused: not positive
        {"1234", 1900}};                     // not a test card: invalid_number
    std::vector<gateways::ChargeRequest> out;
    for (std::size_t i = 0; i < cards.size(); ++i) {
        gateways::ChargeRequest r;
        r.idempotency_key = prefix + std::to_string(i);
        r.deadline = std::chrono::system_clock::now() + std::chrono::seconds(30);
        r.amount = Money(cards[i].second, Currency::from_code(i % 2 ? "JPY" : "USD"));
        r.customer_reference = "cus_" + std::to_string(i);
        r.payment_method_reference = cards[i].first;
        r.description = "Invoice " + std::to_string(i);
        out.push_back(r);
    }
    return out;
}

}  // namespace

TEST_CASE("Gateways.ChargeBatch.DefaultAndSandboxBatchAnswerAsSingleCharges") {
    test::BatchChargeDatabase db;
    PerItemSandbox per_item(db.db.url());
    gateways::SandboxGateway sandbox(db.db.url());
    const auto by_default = per_item.charge_batch(requests("d:"), 3);
    const auto batched = sandbox.charge_batch(requests("b:"), 3);
    REQUIRE(by_default.size() == 11);
    REQUIRE(batched.size() == 11);
    for (std::size_t i = 0; i < batched.size(); ++i) {
        INFO("request ", i, ": ", batched[i].error, " / ", by_default[i].error);
        CHECK(batched[i].status == by_default[i].status);
        CHECK(batched[i].decline_code == by_default[i].decline_code);
        CHECK(batched[i].retryable == by_default[i].retryable);
        CHECK(batched[i].error == by_default[i].error);
    }
    using S = gateways::OperationStatus;
    CHECK(batched[0].status == S::kSucceeded);
    CHECK(batched[1].decline_code == "card_declined");
    CHECK(batched[3].retryable);
    CHECK(batched[5].status == S::kPending);
    CHECK(batched[6].status == S::kUnknown);  // performed, answer lost
    CHECK(batched[7].status == S::kUnknown);  // never happened
    CHECK(batched[8].status == S::kSucceeded);
    CHECK(batched[9].status == S::kFailed);   // refused, nothing recorded
    CHECK(batched[10].decline_code == "invalid_number");
    CHECK(db.scalar("SELECT count(*) FROM sandbox_operations WHERE kind = 'charge'") == 18);

    // Repeats: the batch answers as charge() does for a key seen before, and the reverse;
    // nothing new is recorded, the answer lost the first time is found now.
    const auto replayed = sandbox.charge_batch(requests("d:"), 3);
    auto singles = requests("b:");
    for (std::size_t i = 0; i < replayed.size(); ++i) {
        if (i == 6) {
            CHECK(replayed[i].status == S::kSucceeded);
            continue;
        }
        CHECK(replayed[i].status == by_default[i].status);
        CHECK(replayed[i].provider_id == by_default[i].provider_id);
        if (i == 9) continue;  // charge() throws InputError for it
        const auto single = sandbox.charge(singles[i]);
        CHECK(single.provider_id == batched[i].provider_id);
    }
    CHECK(db.scalar("SELECT count(*) FROM sandbox_operations WHERE kind = 'charge'") == 18);

    // A key reused with other parameters is refused, as by charge().
    auto changed = requests("b:");
    changed[0].amount = Money(999, Currency::from_code("USD"));
    const auto refused = sandbox.charge_batch(changed, 1);
    CHECK(refused[0].status == S::kFailed);
    CHECK(refused[0].error.find("used before with other parameters") != std::string::npos);
    CHECK(db.scalar("SELECT count(*) FROM sandbox_operations WHERE kind = 'charge'") == 18);
}

}  // namespace artistsaid
