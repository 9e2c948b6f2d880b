// The billing cycle end to end against real PostgreSQL and Redis: workflows/billing-cycle.yaml
// and workflows/payment-webhook.yaml started through the RunEngine, executed by a real
// `artistsaid worker` process (the production step registration), charging through the
// sandbox gateway, whose sandbox_operations rows count every charge it performed.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <sstream>
#include <string>

#include "engine/runtime/builtin_steps.hpp"
#include "engine/runtime/run_engine.hpp"
#include "engine/store/database.hpp"
#include "engine/store/migrator.hpp"
#include "engine/workflow/validator.hpp"
#include "gateways/sandbox/sandbox_gateway.hpp"
#include "plugins/billing/billing_steps.hpp"
#include "plugins/documents/render_invoice_step.hpp"
#include "plugins/email/email_send_step.hpp"
#include "plugins/payments/payments_steps.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/cli_runner.hpp"
#include "tests/support/redis_guard.hpp"
#include "tests/support/temp_database.hpp"
#include "tests/support/test_env.hpp"

using namespace artistsaid;
using namespace std::chrono_literals;
using test::eventually;

namespace {

const char* const kSucceeds = "4242424242424242";
const char* const kInsufficientFunds = "4000000000009995";
const char* const kAnswerLost = "4000000000000341";  // charged, the answer times out

struct CycleFixture {
    test::TempDatabase db;
    test::RedisPrefixGuard guard;
    gateways::GatewayRegistry gateways;
    runtime::StepRegistry steps;
    payments::PaymentsContext context;
    std::unique_ptr<runtime::RunEngine> engine;
    std::unique_ptr<test::ChildProcess> worker;
    std::map<std::string, long long> client_of;  // card -> client id (one client per card)
    // Where the cycle's documents and emails go (the local storage backend, the outbox).
    std::filesystem::path files = std::filesystem::temp_directory_path() /
                                  ("aa-cycle-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand()));

    ~CycleFixture() {
        worker.reset();
        std::error_code ec;
        std::filesystem::remove_all(files, ec);
    }

    CycleFixture() {
        store::Migrator(db.url(), std::filesystem::path(test::source_dir()) / "migrations").up();
        gateways.add(std::make_unique<gateways::SandboxGateway>(db.url()));
        gateways.set_routing(gateways::GatewayRouting("sandbox"));
        const std::string url = db.url();
        context.connect = [url] { return store::connect(url); };
        context.database_url = [url] { return url; };
        context.gateways = [this]() -> const gateways::GatewayRegistry& { return gateways; };
        runtime::register_builtin_steps(steps);
        billing::register_billing_steps(steps, context.connect);
        payments::register_payments_steps(steps, context);
        // The plugin steps of the cycle (the worker process registers the same ones).
        plugins::PluginEnvironment plugin_env(env());
        steps.add(std::make_unique<plugins::RenderInvoiceStep>(context.connect, plugin_env));
        steps.add(std::make_unique<plugins::EmailSendStep>(plugin_env));
        runtime::RuntimeOptions o;
        o.database_url = db.url();
        o.redis_url = test::redis_url();
        o.queue_prefix = guard.prefix();
        engine = std::make_unique<runtime::RunEngine>(o, steps);
    }

    std::map<std::string, std::string> env() const {
        return {{"ARTISTSAID_DATABASE_URL", db.url()},
                {"ARTISTSAID_REDIS_URL", test::redis_url()},
                {"ARTISTSAID_QUEUE_PREFIX", guard.prefix()},
                {"ARTISTSAID_WORKFLOWS_DIR", test::source_dir() + "/workflows"},
                {"ARTISTSAID_GATEWAYS_FILE", ""},
                {"ARTISTSAID_STORAGE_DIR", (files / "storage").string()},
                {"ARTISTSAID_EMAIL_OUTBOX_DIR", (files / "outbox").string()},
                {"ARTISTSAID_EMAIL_FROM", "billing@artistsaid.test"},
                {"ARTISTSAID_LOG_FORMAT", "text"}};
    }
    void start_worker() {
        worker = std::make_unique<test::ChildProcess>(
            test::cli_binary(), std::vector<std::string>{"worker", "--concurrency", "4"}, env());
    }
    test::CliResult cli(const std::vector<std::string>& args) const {
        test::CliOptions o;
        o.env = env();
        return test::run_cli(args, o);
    }

    workflow::WorkflowDefinition workflow(const std::string& name) const {
        std::ifstream in(test::source_dir() + "/workflows/" + name + ".yaml");
        std::stringstream text;
        text << in.rdbuf();
        const auto catalog = steps.catalog();  // the validator keeps a reference to it
        workflow::Validator validator(catalog);
        auto result = validator.validate(text.str(), name + ".yaml");
        INFO(result.diagnostics.render());
        REQUIRE(result.ok());
        return *result.definition;
    }

    // Also for INSERT … RETURNING (the seed), so a writing transaction, committed.
    long long scalar(const std::string& sql) const {
        pqxx::connection c(db.url());
        pqxx::work tx(c);
        auto r = tx.exec1(sql);
        const long long value = r[0].is_null() ? 0 : r[0].as<long long>();
        tx.commit();
        return value;
    }
    std::string text(const std::string& sql) const {
        pqxx::connection c(db.url());
        pqxx::read_transaction tx(c);
        auto r = tx.exec1(sql);
        return r[0].is_null() ? "NULL" : r[0].as<std::string>();
    }
    void exec(const std::string& sql) const {
        pqxx::connection c(db.url());
        pqxx::work tx(c);
        tx.exec0(sql);
        tx.commit();
    }

    /// A book of clients: one per card, each with a monthly subscription of 12.50 USD
    /// (tax-exempt) due on `due`, the card saved as the client's default sandbox method.
    void seed(const std::vector<std::string>& cards, const std::string& due) {
        exec("INSERT INTO services (code, name, kind, taxable) VALUES ('plan', 'Portfolio', "
             "'other', false)");
        const long long service = scalar("SELECT id FROM services WHERE code = 'plan'");
        int n = 0;
        for (const auto& card : cards) {
            const std::string name = "client" + std::to_string(++n);
            const long long client = scalar(
                "WITH u AS (INSERT INTO users (email) VALUES ('" + name + "@example.test') "
                "RETURNING id) INSERT INTO clients (kind, user_id, name, country, currency, "
                "tax_exempt) SELECT 'user', id, '" + name + "', 'US', 'USD', true FROM u "
                "RETURNING id");
            client_of[card + "#" + std::to_string(n)] = client;
            exec("INSERT INTO payment_methods (client_id, gateway, kind, gateway_reference, "
                 "gateway_customer_reference, is_default) VALUES (" + std::to_string(client) +
                 ", 'sandbox', 'card', 'sbx_card_" + card + "_" + name + "', 'sbx_cus_" + name +
                 "', true)");
            exec("INSERT INTO subscriptions (client_id, service_id, currency, cycle, billing_day, "
                 "start_date, next_due_date, status, price_override) VALUES (" +
                 std::to_string(client) + ", " + std::to_string(service) + ", 'USD', 'monthly', " +
                 due.substr(8, 2) + ", '" + due + "', '" + due + "', 'active', 1250)");
        }
    }

    std::string run(const std::string& name, const nlohmann::json& inputs) {
        runtime::StartRequest request;
        request.inputs = inputs;
        auto started = engine->start(workflow(name), request);
        const bool done = eventually(
            [&] {
                auto s = text("SELECT status FROM workflow_runs WHERE id = '" + started.run_id +
                              "'");
                return s == "succeeded" || s == "failed" || s == "cancelled";
            },
            120s);
        INFO(worker->output());
        REQUIRE(done);
        return started.run_id;
    }
    std::string run_status(const std::string& id) const {
        return text("SELECT status FROM workflow_runs WHERE id = '" + id + "'");
    }
    nlohmann::json step_outputs(const std::string& run_id, const std::string& step) const {
        return nlohmann::json::parse(
            text("SELECT coalesce(outputs::text, 'null') FROM step_runs WHERE run_id = '" +
                 run_id + "' AND step_id = '" + step + "' AND item_index = -1"));
    }
    /// The invoice of the client that pays with `card` (the n-th seeded client).
    long long invoice_of(const std::string& card_n) const {
        return scalar("SELECT id FROM invoices WHERE client_id = " +
                      std::to_string(client_of.at(card_n)));
    }
    long long sandbox_charges(const std::string& where = "true") const {
        return scalar("SELECT count(*) FROM sandbox_operations WHERE kind = 'charge' AND " + where);
    }
};

}  // namespace

TEST_CASE("Payments.BillingCycle.ChargesOnceDeclinesRecordedUnknownReconciledRerunCreatesNothing") {
    CycleFixture f;
    f.seed({kSucceeds, kSucceeds, kInsufficientFunds, kAnswerLost}, "2026-03-01");
    f.start_worker();

    // A dry run says what would be invoiced and collected, and writes nothing.
    auto dry = f.run("billing-cycle", {{"as_of", "2026-03-01"}, {"lead_days", 0}, {"dry_run", true}});
    REQUIRE(f.run_status(dry) == "succeeded");
    auto preview = f.step_outputs(dry, "invoices");
    CHECK(preview["dry_run"] == true);
    CHECK(preview["invoice_count"] == 4);
    CHECK(preview["to_collect_count"] == 4);
    CHECK(preview["totals"]["USD"]["balance_due"] == 5000);
    CHECK(f.scalar("SELECT count(*) FROM invoices") == 0);
    CHECK(f.scalar("SELECT count(*) FROM payments") == 0);
    CHECK(f.sandbox_charges() == 0);
    CHECK(f.text("SELECT min(next_due_date)::text FROM subscriptions") == "2026-03-01");

    // One payments.charge job per invoice (batches are the default; see the batch test).
    auto first = f.run("billing-cycle",
                       {{"as_of", "2026-03-01"}, {"lead_days", 0}, {"charge_batch_size", 0}});
    INFO(f.worker->output());
    REQUIRE(f.run_status(first) == "succeeded");
    CHECK(f.step_outputs(first, "invoices")["invoice_count"] == 4);
    auto charge = f.step_outputs(first, "charge");
    CHECK(charge["count"] == 4);
    CHECK(charge["succeeded_count"] == 4);  // a decline and an unknown are outcomes, not failures

    // Invoices created, one per subscription; every invoice charged exactly once.
    CHECK(f.scalar("SELECT count(*) FROM invoices") == 4);
    CHECK(f.sandbox_charges() == 4);
    CHECK(f.scalar("SELECT count(DISTINCT idempotency_key) FROM sandbox_operations WHERE "
                   "kind = 'charge'") == 4);
    CHECK(f.scalar("SELECT count(*) FROM payments") == 4);

    // Successes: paid, one payment each, the charge's key is the payment's key.
    for (const auto* who : {"4242424242424242#1", "4242424242424242#2"}) {
        const auto inv = std::to_string(f.invoice_of(who));
        CHECK(f.text("SELECT status FROM invoices WHERE id = " + inv) == "paid");
        CHECK(f.text("SELECT status FROM payments WHERE invoice_id = " + inv) == "succeeded");
        CHECK(f.scalar("SELECT amount FROM payments WHERE invoice_id = " + inv) == 1250);
        CHECK(f.sandbox_charges("idempotency_key = (SELECT idempotency_key FROM payments WHERE "
                                "invoice_id = " + inv + ")") == 1);
        CHECK(f.scalar("SELECT count(*) FROM ledger_transactions t JOIN payments p ON "
                       "p.ledger_transaction_id = t.id WHERE p.invoice_id = " + inv) == 1);
    }
    // The decline: recorded with its code, the invoice still unpaid, no ledger posting.
    const auto declined = std::to_string(f.invoice_of("4000000000009995#3"));
    CHECK(f.text("SELECT status FROM invoices WHERE id = " + declined) == "unpaid");
    CHECK(f.text("SELECT status || ':' || decline_code FROM payments WHERE invoice_id = " +
                 declined) == "declined:insufficient_funds");
    CHECK(f.scalar("SELECT count(*) FROM ledger_transactions t JOIN payments p ON "
                   "p.ledger_transaction_id = t.id WHERE p.invoice_id = " + declined) == 0);
    // The lost answer: unknown, unpaid, left for the reconciler.
    const auto lost = std::to_string(f.invoice_of("4000000000000341#4"));
    CHECK(f.text("SELECT status FROM payments WHERE invoice_id = " + lost) == "unknown");
    CHECK(f.text("SELECT status FROM invoices WHERE id = " + lost) == "unpaid");
    // The step outputs say so, item by item.
    std::map<std::string, int> statuses;
    for (const auto& r : charge["results"]) statuses[r["status"].get<std::string>()]++;
    CHECK(statuses == std::map<std::string, int>{{"succeeded", 2}, {"declined", 1}, {"unknown", 1}});

    // The reconciler resolves it by lookup: paid, posted once, no second charge.
    auto rec = f.cli({"--json", "payments", "reconcile", "--min-age", "0s"});
    INFO(rec.out, rec.err);
    REQUIRE(rec.exit_code == 0);
    CHECK(nlohmann::json::parse(rec.out)["resolved"] == 1);
    CHECK(f.text("SELECT status FROM payments WHERE invoice_id = " + lost) == "succeeded");
    CHECK(f.text("SELECT status FROM invoices WHERE id = " + lost) == "paid");
    CHECK(f.sandbox_charges("payment_method = '4000000000000341'") == 1);
    CHECK(f.scalar("SELECT count(*) FROM ledger_transactions t JOIN payments p ON "
                   "p.ledger_transaction_id = t.id WHERE p.invoice_id = " + lost) == 1);
    // A second pass finds nothing to do and posts nothing again.
    auto again = f.cli({"--json", "payments", "reconcile", "--min-age", "0s"});
    REQUIRE(again.exit_code == 0);
    CHECK(nlohmann::json::parse(again.out)["checked"] == 0);

    // Documents: the two paid invoices got receipts, the declined and the (then) unknown one
    // their HTML invoices; one email each, in the outbox.
    CHECK(f.scalar("SELECT count(*) FROM documents WHERE kind = 'receipt_html'") == 2);
    CHECK(f.scalar("SELECT count(*) FROM documents WHERE kind = 'invoice_html'") == 2);
    CHECK(f.step_outputs(first, "emails")["succeeded_count"] == 4);
    // Dunning's "upcoming" notice is due for the two unpaid invoices: a reminder each.
    CHECK(f.step_outputs(first, "dunning")["notice_count"] == 2);
    CHECK(f.step_outputs(first, "reminders")["succeeded_count"] == 2);
    std::size_t mails = 0;
    for (const auto& e : std::filesystem::directory_iterator(f.files / "outbox"))
        mails += e.path().extension() == ".eml";
    CHECK(mails == 6);
    const std::string receipt_key = f.text(
        "SELECT storage_key FROM documents WHERE kind = 'receipt_html' ORDER BY id LIMIT 1");
    std::ifstream receipt(f.files / "storage" / receipt_key);
    std::stringstream html;
    html << receipt.rdbuf();
    CHECK(html.str().find("PAID") != std::string::npos);
    CHECK(html.str().find("12.50 USD") != std::string::npos);

    // Re-running the day's cycle invoices nothing and charges nothing.
    auto second = f.run("billing-cycle", {{"as_of", "2026-03-01"}, {"lead_days", 0}});
    CHECK(f.run_status(second) == "succeeded");
    CHECK(f.step_outputs(second, "invoices")["invoice_count"] == 0);
    CHECK(f.scalar("SELECT count(*) FROM invoices") == 4);
    CHECK(f.sandbox_charges() == 4);
    CHECK(f.scalar("SELECT count(*) FROM payments") == 4);
    // The reconciled invoice is paid now: its receipt is due and sent once, nothing else.
    CHECK(f.step_outputs(second, "documents_due")["receipts"] == 1);
    CHECK(f.step_outputs(second, "documents_due")["invoices"] == 0);
    CHECK(f.scalar("SELECT count(*) FROM documents WHERE kind = 'receipt_html'") == 3);
    auto third = f.run("billing-cycle", {{"as_of", "2026-03-01"}, {"lead_days", 0}});
    CHECK(f.run_status(third) == "succeeded");
    CHECK(f.step_outputs(third, "documents_due")["count"] == 0);
    CHECK(f.scalar("SELECT count(*) FROM documents") == 5);

    // The collection schedule [0, 3, 7, 14]: the declined invoice is tried again on due + 3
    // (a missed day is caught up: here 03-05 stands for the skipped 03-04), once, and not on
    // the days between; the paid ones never again.
    for (const char* day : {"2026-03-02", "2026-03-03"}) {
        auto idle = f.run("billing-cycle", {{"as_of", day}, {"lead_days", 0}});
        CHECK(f.run_status(idle) == "succeeded");
        CHECK(f.step_outputs(idle, "collect")["count"] == 0);
    }
    auto retry_day = f.run("billing-cycle", {{"as_of", "2026-03-05"}, {"lead_days", 0}});
    CHECK(f.run_status(retry_day) == "succeeded");
    CHECK(f.step_outputs(retry_day, "collect")["count"] == 1);
    CHECK(f.scalar("SELECT count(*) FROM payments WHERE invoice_id = " + declined) == 2);
    CHECK(f.text("SELECT string_agg(collection_day::text || ':' || status, ',' ORDER BY id) FROM "
                 "payments WHERE invoice_id = " + declined) ==
          "2026-03-01:declined,2026-03-04:declined");
    auto same_day = f.run("billing-cycle", {{"as_of", "2026-03-05"}, {"lead_days", 0}});
    CHECK(f.run_status(same_day) == "succeeded");
    CHECK(f.step_outputs(same_day, "collect")["count"] == 0);
    CHECK(f.sandbox_charges() == 5);

    auto verify = f.cli({"ledger", "verify"});
    INFO(verify.out, verify.err);
    CHECK(verify.exit_code == 0);
}

TEST_CASE("Payments.Charge.RetriedAttemptLooksUpTheUnknownChargeInsteadOfChargingAgain") {
    CycleFixture f;
    f.seed({kAnswerLost}, "2026-03-01");
    // Invoice it in-process through the step, then charge with one key twice.
    runtime::StepCall gen;
    gen.run_id = "";  // no run: the collection belongs to none
    gen.step_id = "invoices";
    gen.idempotency_key = "test:invoices";
    gen.with = {{"as_of", "2026-03-01"}};
    gen.deadline = std::chrono::system_clock::now() + 60s;
    REQUIRE(f.steps.find("billing.generate_invoices")->run(gen).kind ==
            runtime::StepResult::Kind::kSucceeded);
    const long long id = f.scalar("SELECT id FROM invoices");
    runtime::StepCall call;
    call.run_id = gen.run_id;
    call.step_id = "charge";
    call.item_index = 0;
    call.idempotency_key = "test:charge:0";
    call.with = {{"invoice_id", id}};
    call.deadline = std::chrono::system_clock::now() + 60s;
    auto* step = f.steps.find("payments.charge");
    auto first = step->run(call);
    CHECK(first.outputs["status"] == "unknown");
    CHECK(first.outputs["charged"] == true);
    CHECK(f.sandbox_charges() == 1);

    call.attempt = 2;
    auto second = step->run(call);
    CHECK(second.outputs["charged"] == false);
    CHECK(second.outputs["reconciled"] == true);
    CHECK(second.outputs["status"] == "succeeded");
    CHECK(second.outputs["invoice_paid"] == true);
    CHECK(f.sandbox_charges() == 1);

    call.attempt = 3;  // and a third attempt only replays what is recorded
    auto third = step->run(call);
    CHECK(third.outputs["replayed"] == true);
    CHECK(third.outputs["reconciled"] == false);
    CHECK(third.outputs["status"] == "succeeded");
    CHECK(f.sandbox_charges() == 1);
    CHECK(f.scalar("SELECT count(*) FROM ledger_transactions WHERE kind = 'payment.succeeded'") == 1);
    CHECK(f.scalar("SELECT amount_paid FROM invoices WHERE id = " + std::to_string(id)) == 1250);

    // A bad invoice id is an input error (not retried) and writes nothing.
    call.idempotency_key = "test:charge:bad";
    call.with = {{"invoice_id", 999999}};
    CHECK_THROWS_AS(step->run(call), InputError);
    CHECK(f.scalar("SELECT count(*) FROM payments") == 1);
}

TEST_CASE("Payments.Webhook.EventSettlesTheUnknownPaymentByLookupAndUnsuspends") {
    CycleFixture f;
    f.seed({kAnswerLost}, "2026-03-01");
    f.start_worker();
    auto cycle = f.run("billing-cycle", {{"as_of", "2026-03-01"}, {"lead_days", 0}});
    REQUIRE(f.run_status(cycle) == "succeeded");
    REQUIRE(f.text("SELECT status FROM payments") == "unknown");
    // Dunning suspended the service meanwhile.
    f.exec("UPDATE subscriptions SET status = 'suspended', suspended_at = now(), "
           "suspend_reason = 'overdue invoice', suspended_by_dunning = true");
    const std::string key = f.text("SELECT idempotency_key FROM payments");

    // An event about a payment we do not know changes nothing.
    auto stray = f.run("payment-webhook", {{"gateway", "sandbox"}, {"provider_id", "sbx_ch_nope"},
                                           {"as_of", "2026-03-02"}});
    CHECK(f.run_status(stray) == "succeeded");
    CHECK(f.step_outputs(stray, "settle")["matched"] == false);
    CHECK(f.text("SELECT status FROM payments") == "unknown");

    auto hook = f.run("payment-webhook", {{"gateway", "sandbox"}, {"idempotency_key", key},
                                          {"as_of", "2026-03-02"}});
    REQUIRE(f.run_status(hook) == "succeeded");
    auto settled = f.step_outputs(hook, "settle");
    CHECK(settled["matched"] == true);
    CHECK(settled["reconciled"] == true);
    CHECK(settled["invoice_paid"] == true);
    CHECK(f.text("SELECT status FROM invoices") == "paid");
    CHECK(f.text("SELECT status FROM subscriptions") == "active");
    CHECK(f.step_outputs(hook, "unsuspend")["unsuspended"] == 1);

    // The same event delivered again settles nothing twice.
    auto replay = f.run("payment-webhook", {{"gateway", "sandbox"}, {"idempotency_key", key},
                                            {"as_of", "2026-03-02"}});
    CHECK(f.run_status(replay) == "succeeded");
    CHECK(f.step_outputs(replay, "settle")["reconciled"] == false);
    CHECK(f.sandbox_charges() == 1);
    CHECK(f.scalar("SELECT count(*) FROM ledger_transactions WHERE kind = 'payment.succeeded'") == 1);
    auto verify = f.cli({"ledger", "verify"});
    INFO(verify.out, verify.err);
    CHECK(verify.exit_code == 0);
}

TEST_CASE("Payments.CollectDue.CaptureBeforeDueThenRetriesOnTheScheduleOncePerDay") {
    CycleFixture f;
    f.seed({kSucceeds, kInsufficientFunds}, "2026-03-10");
    auto call_step = [&](const std::string& type, const std::string& key, nlohmann::json with) {
        runtime::StepCall call;
        call.run_id = "";
        call.step_id = key;
        call.idempotency_key = "test:" + key;
        call.with = std::move(with);
        call.deadline = std::chrono::system_clock::now() + 60s;
        auto result = f.steps.find(type)->run(call);
        REQUIRE(result.kind == runtime::StepResult::Kind::kSucceeded);
        return result.outputs;
    };
    // Invoiced a week ahead of the due date (lead_days 7), as the daily cycle does.
    auto invoiced = call_step("billing.generate_invoices", "invoices",
                              {{"as_of", "2026-03-03"}, {"lead_days", 7}});
    REQUIRE(invoiced["invoice_count"] == 2);
    CHECK(f.text("SELECT string_agg(DISTINCT due_date::text, ',') FROM invoices") == "2026-03-10");

    // Capture two days before due, then on the due date, then three days after.
    const nlohmann::json schedule = {3, -2, 0};  // any order; sorted by the step
    auto collect = [&](const std::string& day) {
        auto out = call_step("payments.collect_due", "collect-" + day,
                             {{"as_of", day}, {"schedule", schedule}});
        std::vector<nlohmann::json> items;
        if (out["count"].get<long long>() > 0) {
            const std::string id = out["invoices"]["$collection"]["id"];
            pqxx::connection c(f.db.url());
            pqxx::read_transaction tx(c);
            for (const auto& row : tx.exec_params("SELECT item::text FROM collection_items WHERE "
                                                  "collection_id = $1::uuid ORDER BY 1", id))
                items.push_back(nlohmann::json::parse(row[0].as<std::string>()));
        }
        CHECK(items.size() == out["count"].get<std::size_t>());
        return items;
    };
    auto charge = [&](const nlohmann::json& item) {
        return call_step("payments.charge",
                         "charge-" + std::to_string(item["id"].get<long long>()) + "-" +
                             item["collection_day"].get<std::string>(),
                         {{"invoice_id", item["id"]}, {"collection_day", item["collection_day"]}});
    };

    CHECK(collect("2026-03-07").empty());  // before the schedule's first day: nothing
    auto early = collect("2026-03-08");
    REQUIRE(early.size() == 2);
    for (const auto& item : early) {
        CHECK(item["collection_day"] == "2026-03-08");
        CHECK(item["attempt"] == 1);
        charge(item);
    }
    const auto paid = std::to_string(f.invoice_of(std::string(kSucceeds) + "#1"));
    const auto declined = std::to_string(f.invoice_of(std::string(kInsufficientFunds) + "#2"));
    CHECK(f.text("SELECT status FROM invoices WHERE id = " + paid) == "paid");
    CHECK(f.text("SELECT status FROM invoices WHERE id = " + declined) == "unpaid");
    CHECK(collect("2026-03-08").empty());  // the same day again: once per day
    CHECK(collect("2026-03-09").empty());  // between schedule days: nothing

    auto on_due = collect("2026-03-10");  // the due date: the declined one only
    REQUIRE(on_due.size() == 1);
    CHECK(std::to_string(on_due[0]["id"].get<long long>()) == declined);
    CHECK(on_due[0]["collection_day"] == "2026-03-10");
    CHECK(on_due[0]["attempt"] == 2);
    charge(on_due[0]);
    CHECK(collect("2026-03-12").empty());
    auto after = collect("2026-03-13");
    REQUIRE(after.size() == 1);
    CHECK(after[0]["attempt"] == 3);
    charge(after[0]);
    CHECK(collect("2026-03-20").empty());  // the schedule is exhausted: dunning takes over

    CHECK(f.text("SELECT string_agg(collection_day::text || ':' || status, ',' ORDER BY id) FROM "
                 "payments WHERE invoice_id = " + declined) ==
          "2026-03-08:declined,2026-03-10:declined,2026-03-13:declined");
    CHECK(f.scalar("SELECT count(*) FROM payments WHERE invoice_id = " + paid) == 1);
    CHECK(f.sandbox_charges() == 4);
    auto verify = f.cli({"ledger", "verify"});
    INFO(verify.out, verify.err);
    CHECK(verify.exit_code == 0);
}

TEST_CASE("Payments.BillingCycle.BatchChargesChargeOnceAndReconcileLikeTheSinglePath") {
    CycleFixture f;
    f.seed({kSucceeds, kSucceeds, kInsufficientFunds, kAnswerLost, kSucceeds}, "2026-03-01");
    f.start_worker();

    // Five invoices in batches of two: three payments.charge_batch items.
    auto first = f.run("billing-cycle",
                       {{"as_of", "2026-03-01"}, {"lead_days", 0}, {"charge_batch_size", 2}});
    INFO(f.worker->output());
    REQUIRE(f.run_status(first) == "succeeded");
    CHECK(f.text("SELECT status FROM step_runs WHERE run_id = '" + first +
                 "' AND step_id = 'charge' AND item_index = -1") == "skipped");
    auto batches = f.step_outputs(first, "charge_batches");
    CHECK(batches["count"] == 3);
    CHECK(batches["succeeded_count"] == 3);
    std::map<std::string, long long> statuses;
    long long charged = 0;
    for (const auto& r : batches["results"]) {
        for (const auto& [status, n] : r["statuses"].items()) statuses[status] += n.get<long long>();
        charged += r["charged"].get<long long>();
    }
    CHECK(statuses == std::map<std::string, long long>{{"succeeded", 3}, {"declined", 1}, {"unknown", 1}});
    CHECK(charged == 5);
    // The day's summary counts the batch jobs (the per-invoice step was skipped).
    const std::string summary = f.step_outputs(first, "summary")["message"];
    CHECK(summary.find("5 invoices, 3 charge jobs ok, 0 charge jobs failed") != std::string::npos);
    CHECK(f.sandbox_charges() == 5);
    CHECK(f.scalar("SELECT count(*) FROM payments WHERE collection_day = '2026-03-01'") == 5);
    CHECK(f.scalar("SELECT count(*) FROM invoices WHERE status = 'paid'") == 3);
    CHECK(f.text("SELECT status || ':' || decline_code FROM payments WHERE invoice_id = " +
                 std::to_string(f.invoice_of("4000000000009995#3"))) == "declined:insufficient_funds");

    // The lost answer is resolved by lookup, without a second charge.
    auto rec = f.cli({"--json", "payments", "reconcile", "--min-age", "0s"});
    REQUIRE(rec.exit_code == 0);
    CHECK(nlohmann::json::parse(rec.out)["resolved"] == 1);
    CHECK(f.scalar("SELECT count(*) FROM invoices WHERE status = 'paid'") == 4);
    CHECK(f.sandbox_charges() == 5);

    // Re-running the day, batched or one by one, charges nothing.
    auto second = f.run("billing-cycle",
                        {{"as_of", "2026-03-01"}, {"lead_days", 0}, {"charge_batch_size", 2}});
    CHECK(f.run_status(second) == "succeeded");
    auto third = f.run("billing-cycle",
                       {{"as_of", "2026-03-01"}, {"lead_days", 0}, {"charge_batch_size", 0}});
    CHECK(f.run_status(third) == "succeeded");
    CHECK(f.sandbox_charges() == 5);
    CHECK(f.scalar("SELECT count(*) FROM payments") == 5);
    auto verify = f.cli({"--json", "ledger", "verify"});
    INFO(verify.out, verify.err);
    CHECK(verify.exit_code == 0);
}

TEST_CASE("Payments.BillingCycle.PartitionedBookIsInvoicedAndChargedOncePerPartition") {
    CycleFixture f;
    f.seed({kSucceeds, kSucceeds, kInsufficientFunds, kAnswerLost, kSucceeds, kSucceeds, kSucceeds},
           "2026-03-01");
    f.start_worker();

    // Partitions below 1 are refused: the run fails, nothing is invoiced.
    auto bad = f.run("billing-cycle", {{"as_of", "2026-03-01"}, {"lead_days", 0}, {"partitions", 0}});
    CHECK(f.run_status(bad) == "failed");
    CHECK(f.text("SELECT coalesce(error, '') FROM workflow_runs WHERE id = '" + bad + "'")
              .find("partitions must be between 1 and 4096, not 0") != std::string::npos);
    CHECK(f.scalar("SELECT count(*) FROM invoices") == 0);

    // Three partitions, two in flight: one child run each (billing-partition.yaml).
    auto first = f.run("billing-cycle", {{"as_of", "2026-03-01"}, {"lead_days", 0},
                                         {"charge_batch_size", 2}, {"partitions", 3}});
    INFO(f.worker->output());
    REQUIRE(f.run_status(first) == "succeeded");
    for (const char* step : {"invoices", "collect", "charge", "charge_batches", "summary"})
        CHECK(f.text("SELECT status FROM step_runs WHERE run_id = '" + first + "' AND step_id = '" +
                     step + "' AND item_index = -1") == "skipped");
    const auto parts = f.step_outputs(first, "partitioned");
    CHECK(parts["count"] == 3);
    CHECK(parts["succeeded_count"] == 3);
    long long invoiced = 0;
    for (const auto& child : parts["results"]) {
        CHECK(child["status"] == "succeeded");
        invoiced += child["outputs"]["invoices"]["invoice_count"].get<long long>();
    }
    CHECK(invoiced == 7);
    // Each partition billed and collected only its own clients.
    CHECK(f.scalar("SELECT count(*) FROM invoices i JOIN billing_runs b ON b.id = i.billing_run_id "
                   "WHERE i.client_id % 3 <> (b.parameters->>'partition')::int") == 0);
    CHECK(f.scalar("SELECT count(DISTINCT billing_run_id) FROM invoices") == 3);
    CHECK(f.sandbox_charges() == 7);
    CHECK(f.scalar("SELECT count(*) FROM payments WHERE collection_day = '2026-03-01'") == 7);
    CHECK(f.scalar("SELECT count(*) FROM invoices WHERE status = 'paid'") == 5);
    CHECK(f.text("SELECT status || ':' || decline_code FROM payments WHERE invoice_id = " +
                 std::to_string(f.invoice_of("4000000000009995#3"))) == "declined:insufficient_funds");
    const std::string summary = f.step_outputs(first, "summary_partitioned")["message"];
    CHECK(summary.find("3 partitions invoiced and charged, 0 failed") != std::string::npos);

    // The lost answer is resolved by lookup, never charged again; re-running the day
    // (partitioned or not) invoices and charges nothing.
    auto rec = f.cli({"--json", "payments", "reconcile", "--min-age", "0s"});
    REQUIRE(rec.exit_code == 0);
    CHECK(f.scalar("SELECT count(*) FROM invoices WHERE status = 'paid'") == 6);
    auto second = f.run("billing-cycle", {{"as_of", "2026-03-01"}, {"lead_days", 0},
                                          {"charge_batch_size", 2}, {"partitions", 3}});
    CHECK(f.run_status(second) == "succeeded");
    auto third = f.run("billing-cycle", {{"as_of", "2026-03-01"}, {"lead_days", 0}});
    CHECK(f.run_status(third) == "succeeded");
    CHECK(f.scalar("SELECT count(*) FROM invoices") == 7);
    CHECK(f.sandbox_charges() == 7);
    CHECK(f.scalar("SELECT count(*) FROM payments") == 7);
    auto verify = f.cli({"--json", "ledger", "verify"});
    INFO(verify.out, verify.err);
    CHECK(verify.exit_code == 0);
}
