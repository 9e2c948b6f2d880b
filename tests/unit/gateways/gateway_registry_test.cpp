#include "gateways/gateway_registry.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "engine/core/error.hpp"
#include "gateways/gateway_setup.hpp"
#include "tests/support/test_env.hpp"

using namespace artistsaid;
using namespace artistsaid::gateways;

namespace {

// A gateway that only has a name: routing never calls its operations.
class NamedGateway final : public PaymentGateway {
public:
    explicit NamedGateway(std::string name) : name_(std::move(name)) {}
    std::string_view name() const override { return name_; }
    CustomerRef save_customer(const CustomerRequest&) override { return {}; }
    PaymentMethodRef save_payment_method(const PaymentMethodRequest&) override { return {}; }
    GatewayResult charge(const ChargeRequest&) override { return {}; }
    GatewayResult refund(const RefundRequest&) override { return {}; }
    GatewayResult transfer(const TransferRequest&) override { return {}; }
    std::optional<GatewayResult> lookup(const LookupRequest&) override { return std::nullopt; }

private:
    std::string name_;
};

GatewayRegistry registry_with(const nlohmann::json& routing) {
    GatewayRegistry registry;
    registry.add(std::make_unique<NamedGateway>("sandbox"));
    registry.add(std::make_unique<NamedGateway>("stripe"));
    registry.add(std::make_unique<NamedGateway>("paypal"));
    registry.set_routing(GatewayRouting::from_json(routing));
    return registry;
}

}  // namespace

TEST_CASE("Gateways.Routing.ClientBeatsCurrencyBeatsDefault") {
    auto registry = registry_with(nlohmann::json::parse(
        R"({"default": "sandbox", "currencies": {"JPY": "stripe"}, "clients": {"42": "paypal"}})"));
    auto usd = Currency::from_code("USD"), jpy = Currency::from_code("JPY");
    CHECK(registry.choose(std::nullopt, usd).name() == "sandbox");
    CHECK(registry.choose(7, jpy).name() == "stripe");
    CHECK(registry.choose(42, jpy).name() == "paypal");
    CHECK(registry.choose(42, usd).name() == "paypal");
}

TEST_CASE("Gateways.Routing.NoDefaultIsAClearError") {
    auto registry = registry_with(nlohmann::json::parse(R"({"currencies": {"JPY": "stripe"}})"));
    CHECK_THROWS_WITH_AS(registry.choose(std::nullopt, Currency::from_code("EUR")),
                         doctest::Contains("no payment gateway configured for EUR"), InputError);
}

TEST_CASE("Gateways.Routing.BadConfigurationIsRefused") {
    CHECK_THROWS_WITH_AS(GatewayRouting::from_json(nlohmann::json::parse(
                             R"({"currencies": {"XYZ": "stripe"}})")),
                         doctest::Contains("unknown currency 'XYZ'"), InputError);
    CHECK_THROWS_WITH_AS(GatewayRouting::from_json(nlohmann::json::parse(
                             R"({"clients": {"abc": "stripe"}})")),
                         doctest::Contains("'abc' is not a client id"), InputError);
    CHECK_THROWS_WITH_AS(GatewayRouting::from_json(nlohmann::json::parse(R"({"defualt": "x"})")),
                         doctest::Contains("unknown key 'defualt'"), InputError);
    CHECK_THROWS_AS(GatewayRouting::from_json(nlohmann::json::parse(R"({"default": ""})")),
                    InputError);
}

TEST_CASE("Gateways.Registry.UnknownAndDuplicateNames") {
    auto registry = registry_with(nlohmann::json::parse(R"({"default": "bank"})"));
    CHECK_THROWS_WITH_AS(registry.choose(std::nullopt, Currency::from_code("EUR")),
                         doctest::Contains("unknown gateway 'bank' (configured: paypal, sandbox, stripe)"),
                         InputError);
    CHECK_THROWS_AS(registry.add(std::make_unique<NamedGateway>("stripe")), InputError);
    CHECK(registry.find("nope") == nullptr);
}

TEST_CASE("Gateways.Status.NamesRoundTrip") {
    for (auto status : {OperationStatus::kSucceeded, OperationStatus::kPending,
                        OperationStatus::kRequiresAction, OperationStatus::kDeclined,
                        OperationStatus::kFailed, OperationStatus::kUnknown}) {
        CHECK(operation_status_from_string(to_string(status)) == status);
    }
    CHECK_FALSE(operation_status_from_string("paid").has_value());
    for (auto kind : {OperationKind::kCharge, OperationKind::kRefund, OperationKind::kTransfer,
                      OperationKind::kPayout}) {
        CHECK(operation_kind_from_string(to_string(kind)) == kind);
    }
    GatewayResult result;
    result.status = OperationStatus::kFailed;
    result.retryable = true;
    CHECK_FALSE(result.is_final());
    result.retryable = false;
    CHECK(result.is_final());
}

TEST_CASE("Gateways.Setup.StripeFromSettingsAndSecrets") {
    auto settings = nlohmann::json::parse(
        R"({"routing": {"default": "stripe"}, "stripe": {"api_key_secret": "STRIPE_KEY",
            "timeout": "10s"}})");
    GatewayRegistry registry;
    register_gateways(registry, settings, {{"STRIPE_KEY", "sk_test_abcdef123456"}}, "");
    CHECK(registry.names() == std::vector<std::string>{"stripe"});
    CHECK(registry.choose(std::nullopt, Currency::from_code("EUR")).name() == "stripe");

    GatewayRegistry missing;
    CHECK_THROWS_WITH_AS(register_gateways(missing, settings, nlohmann::json::object(), ""),
                         doctest::Contains("needs the secret STRIPE_KEY"), InputError);
    auto typo = nlohmann::json::parse(R"({"stripe": {"api_key": "sk_live_x"}})");
    CHECK_THROWS_WITH_AS(register_gateways(missing, typo, nlohmann::json::object(), ""),
                         doctest::Contains("unknown key 'stripe.api_key'"), InputError);
    GatewayRegistry both;
    register_gateways(both, nlohmann::json::parse(R"({"stripe": {"api_key_secret": "SK"},
        "paypal": {"client_id_secret": "PID", "client_secret_secret": "PSEC"}})"),
                      {{"SK", "sk_test_1234567"}, {"PID", "client-id-1"}, {"PSEC", "secret-99"}},
                      "");
    CHECK(both.names() == std::vector<std::string>{"paypal", "stripe"});
    CHECK_THROWS_AS(register_gateways(missing, nlohmann::json::parse(R"({"stripee": {}})"),
                                      nlohmann::json::object(), ""),
                    InputError);
}

TEST_CASE("Gateways.Setup.TheExampleFileIsValid") {
    auto settings = load_gateway_settings(test::source_dir() + "/examples/gateways.yaml");
    GatewayRegistry registry;
    register_gateways(registry, settings,
                      {{"STRIPE_API_KEY", "sk_live_example123"},
                       {"PAYPAL_CLIENT_ID", "client-example"},
                       {"PAYPAL_CLIENT_SECRET", "secret-example"}},
                      "postgresql://unused/db");
    CHECK(registry.names() ==
          std::vector<std::string>{"bank_transfer", "paypal", "stripe"});  // sandbox off
    CHECK(registry.choose(42, Currency::from_code("EUR")).name() == "paypal");
    CHECK(registry.choose(7, Currency::from_code("SEK")).name() == "paypal");
    CHECK(registry.choose(7, Currency::from_code("EUR")).name() == "stripe");
    CHECK_THROWS_WITH_AS(load_gateway_settings("/nonexistent/gateways.yaml"),
                         doctest::Contains("cannot read"), InputError);
}
