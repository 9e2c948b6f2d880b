// PaymentReconciler against a real PostgreSQL and the sandbox gateway: unknown payments are
// resolved by lookup, never by charging again.
#include "gateways/reconcile/payment_reconciler.hpp"

#include <doctest/doctest.h>

#include "gateways/sandbox/sandbox_gateway.hpp"
#include "tests/integration/gateways/gateway_fixture.hpp"

using namespace artistsaid;
using namespace artistsaid::gateways;
using artistsaid::test::in_seconds;

namespace {

struct ReconcileFixture {
    ReconcileFixture() {
        registry.add(std::make_unique<SandboxGateway>(db.url()));
        invoice = db.unpaid_invoice(5000, "EUR", "INV-1");
    }

    // A charge through the sandbox, then a payments row as billing would have left it: in
    // `status`, created `age_seconds` ago.
    void charged(const std::string& key, const std::string& card, const std::string& status,
                 int age_seconds) {
        ChargeRequest request;
        request.idempotency_key = key;
        request.deadline = in_seconds(10);
        request.amount = Money(5000, Currency::from_code("EUR"));
        request.customer_reference = "sbx_cus_1";
        request.payment_method_reference = card;
        registry.get("sandbox").charge(request);
        payment_row(key, "sandbox", status, age_seconds);
    }

    void payment_row(const std::string& key, const std::string& gateway,
                     const std::string& status, int age_seconds) {
        db.exec("INSERT INTO payments (invoice_id, gateway, idempotency_key, amount, currency, "
                "status, created_at) VALUES (" + std::to_string(invoice) + ", '" + gateway +
                "', '" + key + "', 5000, 'EUR', '" + status + "', now() - interval '" +
                std::to_string(age_seconds) + " seconds')");
    }

    std::string status_of(const std::string& key) {
        return db.text("SELECT status FROM payments WHERE idempotency_key = '" + key + "'");
    }

    long long charges(const std::string& key) {
        return db.count("SELECT count(*) FROM sandbox_operations WHERE kind = 'charge' AND "
                        "idempotency_key = '" + key + "'");
    }

    test::GatewayDatabase db;
    GatewayRegistry registry;
    long long invoice = 0;
};

}  // namespace

TEST_CASE("Gateways.Reconciler.UnknownChargeIsResolvedByLookupWithoutASecondCharge") {
    ReconcileFixture f;
    f.charged("lost", "4000000000000341", "unknown", 120);
    REQUIRE(f.charges("lost") == 1);
    PaymentReconciler reconciler(f.db.url(), f.registry);
    auto report = reconciler.run_once();
    CHECK(report.checked == 1);
    CHECK(report.resolved == 1);
    REQUIRE(report.changes.size() == 1);
    CHECK(report.changes[0].old_status == "unknown");
    CHECK(report.changes[0].new_status == "succeeded");
    CHECK(f.status_of("lost") == "succeeded");
    CHECK(f.db.text("SELECT gateway_reference FROM payments WHERE idempotency_key = 'lost'")
              .rfind("sbx_ch_", 0) == 0);
    CHECK(f.db.count("SELECT count(*) FROM payments WHERE idempotency_key = 'lost' AND "
                     "resolved_at IS NOT NULL") == 1);
    CHECK(f.charges("lost") == 1);
    // A second pass has nothing left to do.
    CHECK(reconciler.run_once().checked == 0);
}

TEST_CASE("Gateways.Reconciler.AnAttemptThatNeverArrivedBecomesFailedAndSafeToRetry") {
    ReconcileFixture f;
    f.charged("never", "4000000000000259", "unknown", 120);
    REQUIRE(f.charges("never") == 0);
    PaymentReconciler reconciler(f.db.url(), f.registry);
    auto report = reconciler.run_once();
    CHECK(report.resolved == 1);
    CHECK(f.status_of("never") == "failed");
    CHECK(f.db.text("SELECT error FROM payments WHERE idempotency_key = 'never'")
              .find("not found at the gateway") != std::string::npos);
    CHECK(f.charges("never") == 0);
}

TEST_CASE("Gateways.Reconciler.DeclinesKeepTheirCodeAndPendingSettles") {
    ReconcileFixture f;
    f.charged("declined", "4000000000009995", "unknown", 120);
    f.charged("pending", "4000000000000077", "pending", 120);
    PaymentReconciler reconciler(f.db.url(), f.registry);
    auto report = reconciler.run_once();
    CHECK(report.resolved == 2);
    CHECK(f.status_of("declined") == "declined");
    CHECK(f.db.text("SELECT decline_code FROM payments WHERE idempotency_key = 'declined'") ==
          "insufficient_funds");
    CHECK(f.status_of("pending") == "succeeded");
}

TEST_CASE("Gateways.Reconciler.YoungRowsWaitButReconcilePaymentResolvesAtOnce") {
    ReconcileFixture f;
    f.charged("young", "4000000000000341", "unknown", 0);
    PaymentReconciler reconciler(f.db.url(), f.registry, ReconcileOptions{std::chrono::seconds(60)});
    CHECK(reconciler.run_once().checked == 0);
    CHECK(f.status_of("young") == "unknown");
    auto change = reconciler.reconcile_payment("young");
    REQUIRE(change.has_value());
    CHECK(change->new_status == "succeeded");
    CHECK(f.status_of("young") == "succeeded");
    CHECK(f.charges("young") == 1);
    CHECK_FALSE(reconciler.reconcile_payment("young").has_value());  // already final
    CHECK_FALSE(reconciler.reconcile_payment("nope").has_value());
}

TEST_CASE("Gateways.Reconciler.UnconfiguredGatewayIsReportedAndLeftAlone") {
    ReconcileFixture f;
    f.payment_row("pp", "paypal", "unknown", 120);
    PaymentReconciler reconciler(f.db.url(), f.registry);
    auto report = reconciler.run_once();
    CHECK(report.errors == 1);
    CHECK(report.resolved == 0);
    REQUIRE(report.changes.size() == 1);
    CHECK(report.changes[0].note.find("unknown gateway 'paypal'") != std::string::npos);
    CHECK(f.status_of("pp") == "unknown");
}

TEST_CASE("Gateways.Reconciler.RefundsAndTheListenerCommitTogether") {
    ReconcileFixture f;
    f.charged("paid", "4242424242424242", "succeeded", 120);
    auto charge_id = f.db.text("SELECT provider_id FROM sandbox_operations WHERE "
                               "idempotency_key = 'paid'");
    RefundRequest refund;
    refund.idempotency_key = "refund-1";
    refund.deadline = in_seconds(10);
    refund.charge_reference = charge_id;
    refund.amount = Money(1500, Currency::from_code("EUR"));
    REQUIRE(f.registry.get("sandbox").refund(refund).status == OperationStatus::kSucceeded);
    f.db.exec("INSERT INTO refunds (payment_id, amount, currency, idempotency_key, status, "
              "created_at) SELECT id, 1500, 'EUR', 'refund-1', 'unknown', now() - interval "
              "'5 minutes' FROM payments WHERE idempotency_key = 'paid'");
    PaymentReconciler reconciler(f.db.url(), f.registry);
    std::vector<std::string> seen;
    reconciler.on_change([&](pqxx::transaction_base& tx, const ReconcileChange& change) {
        seen.push_back(change.table + ":" + change.new_status);
        tx.exec("INSERT INTO audit_log (actor, action, subject) VALUES ('system', "
                "'refund.reconciled', 'refund:" + std::to_string(change.id) + "')");
    });
    auto report = reconciler.run_once();
    CHECK(report.resolved == 1);
    CHECK(seen == std::vector<std::string>{"refunds:succeeded"});
    CHECK(f.db.text("SELECT status FROM refunds WHERE idempotency_key = 'refund-1'") ==
          "succeeded");
    CHECK(f.db.count("SELECT count(*) FROM audit_log WHERE action = 'refund.reconciled'") == 1);
    CHECK(f.db.count("SELECT count(*) FROM sandbox_operations WHERE kind = 'refund'") == 1);
}
