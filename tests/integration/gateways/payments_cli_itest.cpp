// `artistsaid payments reconcile` as cron would run it, against a real PostgreSQL.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "gateways/sandbox/sandbox_gateway.hpp"
#include "tests/integration/gateways/gateway_fixture.hpp"
#include "tests/support/cli_runner.hpp"

using namespace artistsaid;
using namespace artistsaid::gateways;

TEST_CASE("Gateways.Cli.PaymentsReconcileResolvesALostChargeOnce") {
    test::GatewayDatabase db;
    auto invoice = db.unpaid_invoice(900, "EUR", "INV-CLI");
    SandboxGateway sandbox(db.url());
    ChargeRequest charge;
    charge.idempotency_key = "cli-lost";
    charge.deadline = test::in_seconds(10);
    charge.amount = Money(900, Currency::from_code("EUR"));
    charge.payment_method_reference = "4000000000000341";
    REQUIRE(sandbox.charge(charge).status == OperationStatus::kUnknown);
    db.exec("INSERT INTO payments (invoice_id, gateway, idempotency_key, amount, currency, "
            "status, created_at) VALUES (" + std::to_string(invoice) +
            ", 'sandbox', 'cli-lost', 900, 'EUR', 'unknown', now() - interval '10 minutes')");

    test::CliOptions options;
    options.env["ARTISTSAID_DATABASE_URL"] = db.url();
    auto result = test::run_cli({"--json", "payments", "reconcile"}, options);
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    auto report = nlohmann::json::parse(result.out);
    CHECK(report["resolved"] == 1);
    CHECK(report["changes"][0]["new_status"] == "succeeded");
    CHECK(db.text("SELECT status FROM payments WHERE idempotency_key = 'cli-lost'") == "succeeded");
    CHECK(db.count("SELECT count(*) FROM sandbox_operations WHERE kind = 'charge'") == 1);

    auto again = test::run_cli({"payments", "reconcile"}, options);
    CHECK(again.exit_code == 0);
    CHECK(again.out.find("checked 0, resolved 0") != std::string::npos);
}

TEST_CASE("Gateways.Cli.PaymentsReconcileRefusesBadInput") {
    test::GatewayDatabase db;
    test::CliOptions options;
    options.env["ARTISTSAID_DATABASE_URL"] = db.url();
    auto bad_age = test::run_cli({"payments", "reconcile", "--min-age", "soon"}, options);
    CHECK(bad_age.exit_code == 2);
    auto bad_file = test::run_cli({"payments", "reconcile", "--gateways", "/nonexistent.yaml"},
                                  options);
    CHECK(bad_file.exit_code == 2);
    CHECK(bad_file.err.find("cannot read /nonexistent.yaml") != std::string::npos);
    auto no_db = test::run_cli({"payments", "reconcile"});
    CHECK(no_db.exit_code == 2);
}
