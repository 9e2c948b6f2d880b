// The batch charge path (BatchInvoiceCharger + PaymentGateway::charge_batch) against real
// PostgreSQL and the sandbox gateway: same results as the single path, nothing charged twice.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <tuple>

#include "plugins/billing/batch_payment_recorder.hpp"
#include "plugins/billing/payment_recorder.hpp"
#include "plugins/payments/charge_batch_step.hpp"

#include "tests/integration/payments/batch_charge_fixture.hpp"

namespace artistsaid {
namespace {

using test::BatchChargeDatabase;

// Test cards (gateways/sandbox/sandbox_gateway.hpp) and what they do.
const std::string kSucceeds = "4242424242424242";
const std::string kMastercard = "5555555555554444";
const std::string kDeclined = "4000000000000002";
const std::string kInsufficient = "4000000000009995";
const std::string kAnswerLost = "4000000000000341";    // charged, answer lost: unknown
const std::string kNeverHappened = "4000000000000259"; // unknown, nothing at the gateway
const std::string kPending = "4000000000000077";
const std::string kRequiresAction = "4000002500003155";
const std::string kProcessingError = "4000000000000119";

// The same mixed set of invoices in any database: every outcome and three currencies
// (JPY without decimals, BHD with three).
std::vector<long long> seed_mixed(BatchChargeDatabase& db) {
    return {db.unpaid_invoice("USD", 1999, 190000, kSucceeds),
            db.unpaid_invoice("EUR", 2500, 0, kDeclined),
            db.unpaid_invoice("JPY", 1500, 100000, kSucceeds),
            db.unpaid_invoice("JPY", 999, 0, kInsufficient),
            db.unpaid_invoice("USD", 1000, 0, kAnswerLost),
            db.unpaid_invoice("USD", 1100, 0, kNeverHappened),
            db.unpaid_invoice("USD", 1200, 0, kPending),
            db.unpaid_invoice("USD", 1300, 0, kRequiresAction),
            db.unpaid_invoice("USD", 1400, 0, kProcessingError),
            db.unpaid_invoice("BHD", 12345, 50000, kMastercard)};
}

std::map<long long, std::string> status_by_invoice(const std::vector<nlohmann::json>& outputs) {
    std::map<long long, std::string> out;
    for (const auto& o : outputs) out[o["invoice_id"].get<long long>()] = o["status"].get<std::string>();
    return out;
}

}  // namespace

TEST_CASE("Payments.Batch.SameOutcomesAndLedgerAsTheSinglePath") {
    BatchChargeDatabase single;
    BatchChargeDatabase batch;
    const auto invoices = seed_mixed(single);
    REQUIRE(seed_mixed(batch) == invoices);

    std::vector<nlohmann::json> single_out;
    for (auto id : invoices) single_out.push_back(single.charge_one(id, "k:" + std::to_string(id)));
    const auto batch_out = batch.charge_batch(invoices, "k:");
    REQUIRE(batch_out.size() == invoices.size());
    for (std::size_t i = 0; i < invoices.size(); ++i) {
        INFO("invoice ", invoices[i], " single ", single_out[i].dump(), " batch ", batch_out[i].dump());
        CHECK(batch_out[i]["invoice_id"] == invoices[i]);
        for (const char* field : {"status", "amount", "currency", "gateway", "decline_code",
                                  "invoice_paid", "charged", "replayed"})
            CHECK(batch_out[i][field] == single_out[i][field]);
    }
    auto statuses = status_by_invoice(batch_out);
    CHECK(statuses[invoices[0]] == "succeeded");
    CHECK(statuses[invoices[1]] == "declined");
    CHECK(statuses[invoices[4]] == "unknown");
    CHECK(statuses[invoices[5]] == "unknown");
    CHECK(statuses[invoices[6]] == "pending");
    CHECK(statuses[invoices[7]] == "failed");
    CHECK(statuses[invoices[8]] == "failed");
    CHECK(batch.outcome_table() == single.outcome_table());
    CHECK(batch.ledger_table() == single.ledger_table());
    CHECK(batch.ledger_ok());

    // The unknown and pending ones are resolved by the reconciler alike in both.
    CHECK(single.reconcile().resolved == 3);
    CHECK(batch.reconcile().resolved == 3);
    CHECK(batch.outcome_table() == single.outcome_table());
    CHECK(batch.ledger_table() == single.ledger_table());
    CHECK(batch.ledger_ok());
    CHECK(batch.scalar("SELECT count(*) FROM invoices WHERE status = 'paid'") == 5);
}

TEST_CASE("Payments.Batch.ZeroAndThreeDecimalAmountsAreExact") {
    BatchChargeDatabase db;
    const std::vector<long long> invoices{db.unpaid_invoice("JPY", 1500, 100000, kSucceeds),
                                          db.unpaid_invoice("JPY", 7, 0, kSucceeds),
                                          db.unpaid_invoice("BHD", 12345, 50000, kSucceeds)};
    auto out = db.charge_batch(invoices, "fx:");
    for (std::size_t i = 0; i < invoices.size(); ++i) {
        const auto total = db.scalar("SELECT total FROM invoices WHERE id = " + std::to_string(invoices[i]));
        CHECK(out[i]["status"] == "succeeded");
        CHECK(out[i]["amount"] == total);
        CHECK(db.scalar("SELECT amount FROM sandbox_operations WHERE idempotency_key = 'fx:" +
                        std::to_string(invoices[i]) + "'") == total);
        CHECK(db.scalar("SELECT amount_paid FROM invoices WHERE id = " + std::to_string(invoices[i])) == total);
    }
    CHECK(out[0]["amount"] == 1650);  // 1500 JPY + 10 % tax, no minor units
    CHECK(out[0]["currency"] == "JPY");
    CHECK(db.scalar("SELECT sum(e.amount) FROM ledger_entries e JOIN ledger_accounts a ON "
                    "a.id = e.account_id WHERE a.code = 'gateway_clearing' AND e.currency = 'JPY'") ==
          1657);
    CHECK(db.ledger_ok());
}

TEST_CASE("Payments.Batch.ReRunChargesNothingTwice") {
    BatchChargeDatabase db;
    const auto invoices = seed_mixed(db);
    db.charge_batch(invoices, "day:", "2026-03-01");
    const long long charges = db.scalar("SELECT count(*) FROM sandbox_operations WHERE kind = 'charge'");
    CHECK(charges == 9);  // the never-happened card leaves nothing at the gateway
    const std::string before = db.outcome_table();

    SUBCASE("the same keys: final outcomes are replayed, unknown ones looked up first") {
        auto again = db.charge_batch(invoices, "day:", "2026-03-01");
        for (const auto& o : again) CHECK(o["charged"] == (o["invoice_id"] == invoices[5]));
        CHECK(again[0]["replayed"] == true);
        CHECK(again[0]["status"] == "succeeded");
        CHECK(again[4]["status"] == "succeeded");  // looked up: it had been charged
        CHECK(again[4]["reconciled"] == true);
        // Not found at the gateway: the same key is charged again, once.
        CHECK(again[5]["status"] == "unknown");
    }
    SUBCASE("a re-run of the day under other keys reports the day's attempt") {
        auto again = db.charge_batch(invoices, "rerun:", "2026-03-01");
        for (const auto& o : again) {
            CHECK(o["charged"] == false);
            CHECK(o["replayed"] == true);
        }
        CHECK(db.outcome_table() == before);
    }
    SUBCASE("the single path for the same day charges nothing either") {
        for (auto id : invoices) {
            auto out = db.charge_one(id, "single:" + std::to_string(id), "2026-03-01");
            CHECK(out["charged"] == false);
        }
        CHECK(db.outcome_table() == before);
    }
    for (auto id : invoices) CHECK(db.sandbox_charges(id) <= 1);
    CHECK(db.scalar("SELECT count(*) FROM sandbox_operations WHERE kind = 'charge'") <= charges + 1);
    CHECK(db.ledger_ok());
}

TEST_CASE("Payments.Batch.CrashBeforeTheOutcomeCommitIsResolvedByTheReconciler") {
    BatchChargeDatabase db;
    const auto invoices = seed_mixed(db);
    // The outcome transaction fails after every gateway call was made: what a crash between
    // the calls and the commit leaves behind.
    db.exec("CREATE FUNCTION test_crash() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'simulated crash before the outcome commit'; END $$; "
            "CREATE TRIGGER test_crash BEFORE UPDATE ON payments FOR EACH ROW WHEN "
            "(OLD.status = 'unknown' AND NEW.status <> 'unknown') EXECUTE FUNCTION test_crash()");
    CHECK_THROWS(db.charge_batch(invoices, "crash:", "2026-03-01"));
    CHECK(db.scalar("SELECT count(*) FROM payments WHERE status = 'unknown'") == 10);
    CHECK(db.scalar("SELECT count(*) FROM sandbox_operations WHERE kind = 'charge'") == 9);
    CHECK(db.scalar("SELECT count(*) FROM ledger_transactions WHERE kind = 'payment.succeeded'") == 0);
    db.exec("DROP TRIGGER test_crash ON payments");

    SUBCASE("the Janitor") {
        auto report = db.reconcile();
        CHECK(report.checked == 10);
        CHECK(report.errors == 0);
    }
    SUBCASE("a redelivered batch looks every payment up before anything else") {
        auto again = db.charge_batch(invoices, "crash:", "2026-03-01");
        for (std::size_t i = 0; i < again.size(); ++i) {
            // Not found at the gateway: charged again under its key (still nothing there).
            if (i == 5) CHECK(again[i]["charged"] == true);
            else CHECK(again[i]["reconciled"] == true);
        }
        db.reconcile();
    }
    for (auto id : invoices) CHECK(db.sandbox_charges(id) <= 1);
    CHECK(db.scalar("SELECT count(*) FROM sandbox_operations WHERE kind = 'charge'") <= 10);
    CHECK(db.scalar("SELECT count(*) FROM payments WHERE status = 'succeeded'") == 5);
    CHECK(db.scalar("SELECT count(*) FROM invoices WHERE status = 'paid'") == 5);
    CHECK(db.scalar("SELECT count(*) FROM ledger_transactions WHERE kind = 'payment.succeeded'") == 5);
    CHECK(db.scalar("SELECT count(*) FROM payments p JOIN invoices i ON i.id = p.invoice_id "
                    "WHERE p.status = 'succeeded' AND i.amount_paid <> p.amount") == 0);
    CHECK(db.ledger_ok());
}

TEST_CASE("Payments.Batch.ConcurrentOverlappingBatchesNeverDoubleCharge") {
    for (int threads : {2, 4}) {
        CAPTURE(threads);
        BatchChargeDatabase db;
        std::vector<long long> invoices;
        for (int i = 0; i < 40; ++i)
            invoices.push_back(db.unpaid_invoice(i % 3 ? "USD" : "JPY", 1000 + i, 0,
                                                 i % 5 ? kSucceeds : kDeclined));
        std::atomic<int> failures{0};
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; ++t) {
            pool.emplace_back([&, t] {
                try {
                    // Each thread takes an overlapping window, under its own keys; the
                    // last one charges one by one through the single path.
                    std::vector<long long> mine(invoices.begin() + t * 5, invoices.end());
                    if (t == threads - 1 && threads > 2) {
                        for (auto id : mine) {
                            try {
                                db.charge_one(id, "s" + std::to_string(id), "2026-03-01");
                            } catch (const WorkError&) {
                                // "being charged by another attempt": a retry would look it up
                            }
                        }
                    } else {
                        db.charge_batch(mine, "t" + std::to_string(t) + ":", "2026-03-01");
                    }
                } catch (const std::exception& e) {
                    MESSAGE(std::string(e.what()));
                    ++failures;
                }
            });
        }
        for (auto& t : pool) t.join();
        // A payment row a concurrent attempt held is "in_progress" (or a WorkError for the
        // single path); whichever way, at most one attempt per invoice and day exists.
        for (auto id : invoices) {
            CHECK(db.sandbox_charges(id) == 1);
            CHECK(db.scalar("SELECT count(*) FROM payments WHERE invoice_id = " + std::to_string(id)) == 1);
        }
        CHECK(db.scalar("SELECT count(*) FROM invoices WHERE status = 'paid' AND amount_paid <> total") == 0);
        CHECK(db.scalar("SELECT count(*) FROM invoices WHERE status = 'paid'") == 32);
        CHECK(db.ledger_ok());
        CHECK(failures.load() == 0);
    }
}

TEST_CASE("Payments.Batch.BadInputChangesNothing") {
    BatchChargeDatabase db;
    const long long a = db.unpaid_invoice("USD", 1000, 0, kSucceeds);
    const long long b = db.unpaid_invoice("USD", 1000, 0, kSucceeds);
    payments::BatchInvoiceCharger charger(db.context);
    payments::BatchChargeOptions o;
    o.deadline = std::chrono::system_clock::now() + std::chrono::seconds(30);
    using Items = std::vector<payments::BatchChargeItem>;
    CHECK(test::contains(test::input_error_of([&] { charger.charge(Items{{a, "x1", ""}, {a, "x2", ""}}, o); }),
                         "twice"));
    CHECK(test::contains(test::input_error_of([&] { charger.charge(Items{{a, "x1", ""}, {b, "x1", ""}}, o); }),
                         "twice"));
    CHECK(test::contains(test::input_error_of([&] { charger.charge(Items{{a, "x1", ""}, {0, "x2", ""}}, o); }),
                         "positive"));
    CHECK(test::contains(test::input_error_of([&] { charger.charge(Items{{a, "", ""}}, o); }), "key"));
    CHECK(test::contains(test::input_error_of([&] { charger.charge(Items{{a, "x1", ""}, {999999, "x2", ""}}, o); }),
                         "no invoice 999999"));
    CHECK(db.scalar("SELECT count(*) FROM payments") == 0);
    CHECK(db.scalar("SELECT count(*) FROM sandbox_operations") == 0);
    // A key that belongs to another invoice.
    db.charge_one(a, "taken");
    CHECK(test::contains(test::input_error_of([&] { charger.charge(Items{{b, "taken", ""}}, o); }),
                         "belongs to invoice"));
    CHECK(db.scalar("SELECT count(*) FROM payments") == 1);
}

}  // namespace artistsaid

namespace artistsaid {

TEST_CASE("Payments.Batch.RecorderPostsOverpaymentsAsTheSingleRecorderDoes") {
    // Payments that arrive succeeded for more than is due (two for one invoice; one larger
    // than its invoice), posted one by one by PaymentRecorder and at once by
    // BatchPaymentRecorder: the same invoices, credit and ledger.
    auto seed = [](BatchChargeDatabase& db) {
        std::vector<long long> invoices{db.unpaid_invoice("USD", 1000, 0, kSucceeds),
                                        db.unpaid_invoice("JPY", 500, 0, kSucceeds)};
        std::vector<std::int64_t> payments;
        for (const auto& [invoice, amount, key] :
             std::vector<std::tuple<long long, long long, std::string>>{
                 {invoices[0], 600, "p1"}, {invoices[0], 600, "p2"}, {invoices[1], 800, "p3"}})
            payments.push_back(db.scalar(
                "INSERT INTO payments (invoice_id, gateway, idempotency_key, amount, currency, "
                "status) SELECT id, 'sandbox', '" + key + "', " + std::to_string(amount) +
                ", currency, 'succeeded' FROM invoices WHERE id = " + std::to_string(invoice) +
                " RETURNING id"));
        return payments;
    };
    BatchChargeDatabase single;
    BatchChargeDatabase batch;
    const auto ids = seed(single);
    REQUIRE(seed(batch) == ids);
    {
        pqxx::work tx(single.conn);
        for (auto id : ids) billing::PaymentRecorder::record_resolved(tx, id);
        tx.commit();
    }
    {
        pqxx::work tx(batch.conn);
        CHECK(billing::BatchPaymentRecorder::record_resolved(tx, ids) == 3);
        tx.commit();
    }
    const std::string invoices_and_credit =
        "SELECT string_agg(format('%s:%s:%s', id, status, amount_paid), ' ' ORDER BY id) || ' / ' || "
        "(SELECT coalesce(string_agg(format('%s:%s:%s:%s', client_id, currency, amount, "
        "idempotency_key), ' ' ORDER BY id), '') FROM credits) FROM invoices";
    CHECK(batch.text(invoices_and_credit) == single.text(invoices_and_credit));
    CHECK(batch.ledger_table() == single.ledger_table());
    CHECK(batch.scalar("SELECT sum(amount) FROM credits WHERE kind = 'overpayment'") == 200 + 300);
    CHECK(batch.ledger_ok());
    // Posting again posts nothing.
    pqxx::work tx(batch.conn);
    CHECK(billing::BatchPaymentRecorder::record_resolved(tx, ids) == 0);
    tx.commit();
    // One posting per currency (USD, JPY), every payment linked to its own currency's.
    CHECK(batch.scalar("SELECT count(*) FROM ledger_transactions WHERE kind = 'payment.succeeded'") == 2);
    CHECK(batch.scalar("SELECT count(*) FROM payments p JOIN ledger_transactions t ON t.id = "
                       "p.ledger_transaction_id WHERE t.kind = 'payment.succeeded'") == 3);
    CHECK(single.scalar("SELECT count(*) FROM ledger_transactions WHERE kind = 'payment.succeeded'") == 3);
}

}  // namespace artistsaid

namespace artistsaid {

TEST_CASE("Payments.ChargeBatchStep.RefusesWhatIsNotThisRunsCollection") {
    BatchChargeDatabase db;
    payments::ChargeBatchStep step(db.context);
    runtime::StepCall call;
    call.run_id = "0190f000-0000-7000-8000-000000000001";
    call.step_id = "charge_batches";
    call.item_index = 0;
    call.idempotency_key = "run:charge_batches:0";
    call.deadline = std::chrono::system_clock::now() + std::chrono::seconds(30);
    call.with = {{"invoices", "not a handle"}, {"batch", 0}};
    CHECK(test::contains(test::input_error_of([&] { step.run(call); }), "collection handle"));
    call.with = {{"invoices", {{"$collection", {{"id", "0190f000-0000-7000-8000-00000000abcd"}}}}},
                 {"batch", 0}};
    CHECK(test::contains(test::input_error_of([&] { step.run(call); }), "in this run"));
    call.with["batch_size"] = 0;
    CHECK(test::input_error_of([&] { step.run(call); }) != "<no InputError>");
    CHECK(db.scalar("SELECT count(*) FROM payments") == 0);
}

}  // namespace artistsaid
