// WorkflowParser: YAML → model, structural diagnostics, and positions inside scalars.
#include "engine/workflow/workflow_parser.hpp"

#include <doctest/doctest.h>

using namespace artistsaid;
using namespace artistsaid::workflow;
using nlohmann::json;

namespace {

ParseResult parse(const std::string& text) { return WorkflowParser().parse(text, "test.yaml"); }

// "line:column message" of every diagnostic, in order.
std::vector<std::string> problem_list(const Diagnostics& d) {
    std::vector<std::string> out;
    for (const auto& item : d.items())
        out.push_back(std::to_string(item.where.line) + ":" + std::to_string(item.where.column) +
                      " " + item.message);
    return out;
}

// The same, one per line (so a failed CHECK shows them).
std::string problems(const Diagnostics& d) {
    std::string out;
    for (const auto& p : problem_list(d)) out += p + "\n";
    return out;
}

std::string lines(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) out += item + "\n";
    return out;
}

const char* const kFull = R"(name: billing-cycle
version: 3
description: Invoice due subscriptions.
on:
  schedule:
    - cron: "0 2 * * *"
      timezone: Europe/Berlin
      catch_up: latest
    - cron: "@hourly"
  webhook: { provider: stripe, events: [invoice.payment_failed, invoice.paid] }
  event: subscription.created
  command: false
inputs:
  as_of: { type: date, default: "${{ today() }}" }
  amount: money
  client_id: { type: string, required: true, description: The client }
concurrency: { key: "billing-${{ inputs.client_id }}", limit: 2 }
steps:
  - id: invoices
    name: Generate invoices
    uses: log
    with: { message: "as of ${{ inputs.as_of }}", level: info, n: 42, s: "42", b: true, f: 1.5, nothing: ~ }
  - id: charge
    needs: [invoices]
    for_each: "${{ [1, 2] }}"
    max_parallel: 32
    uses: log
    with: { message: "${{ item }}" }
    retry: { attempts: 4, backoff: constant, delay: 10m, max_delay: 1d, jitter: false }
    timeout: 60s
    on_error: continue
    compensate: { uses: log, with: { message: undo } }
  - id: receipts
    needs: invoices
    if: "${{ steps.charge.outputs.succeeded_count > 0 }}"
    uses: log
    retry: 2
on_failure:
  - id: alert
    uses: log
    with: { message: failed }
)";

}  // namespace

TEST_CASE("WorkflowParser.Full.ReadsEveryKeyIntoTheModel") {
    auto r = parse(kFull);
    CAPTURE(r.diagnostics.render());
    REQUIRE(r.diagnostics.empty());
    REQUIRE(r.definition);
    const WorkflowDefinition& w = *r.definition;
    CHECK(w.name == "billing-cycle");
    CHECK(w.version == 3);
    CHECK(w.description == "Invoice due subscriptions.");
    CHECK(w.file == "test.yaml");
    CHECK(w.source == kFull);
    CHECK(w.name_where.line == 1);

    REQUIRE(w.on.schedules.size() == 2);
    CHECK(w.on.schedules[0].cron == "0 2 * * *");
    CHECK(w.on.schedules[0].timezone == "Europe/Berlin");
    CHECK(w.on.schedules[0].catch_up == CatchUp::kLatest);
    CHECK(w.on.schedules[1].timezone == "UTC");
    CHECK(w.on.schedules[1].catch_up == CatchUp::kNone);
    REQUIRE(w.on.webhooks.size() == 1);
    CHECK(w.on.webhooks[0].provider == "stripe");
    CHECK(w.on.webhooks[0].events ==
          std::vector<std::string>{"invoice.payment_failed", "invoice.paid"});
    REQUIRE(w.on.events.size() == 1);
    CHECK(w.on.events[0].event == "subscription.created");
    CHECK_FALSE(w.on.command);

    REQUIRE(w.inputs.size() == 3);
    CHECK(w.inputs[0].type == ValueType::kDate);
    REQUIRE(w.inputs[0].default_value);
    CHECK(w.inputs[0].default_value->root_template() != nullptr);
    CHECK(w.inputs[1].type == ValueType::kMoney);  // shorthand
    CHECK_FALSE(w.inputs[1].required);
    CHECK(w.inputs[2].required);
    CHECK(w.inputs[2].description == "The client");
    CHECK(w.find_input("amount") == &w.inputs[1]);

    REQUIRE(w.concurrency);
    CHECK(w.concurrency->key.text() == "billing-${{ inputs.client_id }}");
    CHECK(w.concurrency->limit == 2);

    REQUIRE(w.steps.size() == 3);
    const auto& invoices = w.steps[0];
    CHECK(invoices.name == "Generate invoices");
    CHECK(invoices.with.raw() == json({{"message", "as of ${{ inputs.as_of }}"},
                                       {"level", "info"},
                                       {"n", 42},
                                       {"s", "42"},
                                       {"b", true},
                                       {"f", 1.5},
                                       {"nothing", nullptr}}));
    CHECK(invoices.with.slots().size() == 1);
    CHECK(invoices.on_error == OnError::kFail);
    CHECK_FALSE(invoices.retry);

    const auto& charge = w.steps[1];
    CHECK(charge.needs == std::vector<std::string>{"invoices"});
    REQUIRE(charge.for_each);
    CHECK(charge.max_parallel == 32);
    REQUIRE(charge.retry);
    CHECK(charge.retry->attempts == 4);
    CHECK(charge.retry->backoff == Backoff::kConstant);
    CHECK(charge.retry->delay == std::chrono::minutes(10));
    CHECK(charge.retry->max_delay == std::chrono::hours(24));
    CHECK_FALSE(charge.retry->jitter);
    CHECK(charge.timeout == std::chrono::seconds(60));
    CHECK(charge.on_error == OnError::kContinue);
    REQUIRE(charge.compensate);
    CHECK(charge.compensate->uses == "log");
    CHECK(charge.compensate->with.raw() == json({{"message", "undo"}}));

    const auto& receipts = w.steps[2];
    CHECK(receipts.needs == std::vector<std::string>{"invoices"});  // a single string
    REQUIRE(receipts.condition);
    CHECK(receipts.with.raw() == json::object());  // no with: empty
    REQUIRE(receipts.retry);
    CHECK(receipts.retry->attempts == 2);  // shorthand
    CHECK(receipts.retry->backoff == Backoff::kExponential);

    REQUIRE(w.on_failure.size() == 1);
    CHECK(w.find_step("alert") == &w.on_failure[0]);
    CHECK(w.find_step("nope") == nullptr);

    // Locations.
    CHECK(charge.where.step.line == 23);
    CHECK(charge.where.id.line == 23);
    CHECK(charge.where.id.column == 9);
    REQUIRE(charge.where.needs.size() == 1);
    CHECK(charge.where.needs[0].line == 24);
    CHECK(charge.where.needs[0].column == 13);
    CHECK(charge.where.uses.line == 27);
}

TEST_CASE("WorkflowParser.Scalars.FollowYaml12CoreSchema") {
    auto r = parse(
        "name: x\nversion: \"3\"\ndescription: 42\nsteps:\n  - id: a\n    uses: log\n"
        "    on_error: yes\n    timeout: 30\n    retry: { attempts: three }\n");
    auto p = problem_list(r.diagnostics);
    REQUIRE(p.size() == 5);
    CHECK(p[0] == "2:10 'version' must be an integer, not a string");
    CHECK(p[1] == "3:14 'description' must be a string, not an integer");
    CHECK(p[2] == "7:15 'on_error' must be fail or continue, not 'yes'");
    CHECK(p[3] == "8:14 'timeout' needs a unit: 30 of what?");
    CHECK(p[4] == "9:24 'attempts' must be an integer, not a string");
    CHECK(r.diagnostics.items()[1].hint == "quote it to make it text: \"42\"");
}

TEST_CASE("WorkflowParser.Document.EmptyBrokenOrNotAMapping") {
    CHECK(problem_list(parse("").diagnostics) ==
          std::vector<std::string>{"1:1 the file holds no workflow"});
    CHECK(problem_list(parse("# only a comment\n").diagnostics) ==
          std::vector<std::string>{"1:1 the file holds no workflow"});
    CHECK(problem_list(parse("just text").diagnostics) ==
          std::vector<std::string>{"1:1 a workflow must be a mapping, not a string"});
    auto broken = parse("name: x\nsteps: [\n");
    REQUIRE(broken.diagnostics.size() == 1);
    CHECK(broken.diagnostics.items()[0].message.rfind("invalid YAML: ", 0) == 0);
    CHECK_FALSE(broken.definition);
    CHECK(problem_list(parse("name: x\n").diagnostics) ==
          std::vector<std::string>{"1:1 the workflow has no steps"});
    // A UTF-8 byte-order mark is ignored.
    auto bom = parse("\xEF\xBB\xBFname: x\nsteps:\n  - { id: a, uses: log }\n");
    CHECK(bom.diagnostics.empty());
    CHECK(bom.definition->name == "x");
}

TEST_CASE("WorkflowParser.Keys.UnknownDuplicateAndMissing") {
    auto r = parse(
        "name: x\nsteps:\n  - id: a\n    uses: log\n    with: { m: 1, m: 2 }\n"
        "  - uses: log\n    timeot: 1s\n  - id: c\n");
    auto p = problem_list(r.diagnostics);
    REQUIRE(p.size() == 4);
    CHECK(p[0] == "5:19 duplicate key 'm'");
    CHECK(p[1] == "6:5 the step has no id");
    CHECK(p[2] == "7:5 unknown key 'timeot' in a step");
    CHECK(p[3] == "8:5 step 'c' has no 'uses'");
    CHECK(r.diagnostics.items()[2].hint == "did you mean 'timeout'?");
    CHECK(r.definition->steps.size() == 3);  // partial steps are kept for later checks
}

TEST_CASE("WorkflowParser.Values.NestingIsBounded") {
    std::string deep = "name: x\nsteps:\n  - id: a\n    uses: log\n    with: { v: ";
    for (int i = 0; i < 100; ++i) deep += "[";
    for (int i = 0; i < 100; ++i) deep += "]";
    deep += " }\n";
    auto p = problem_list(parse(deep).diagnostics);
    REQUIRE(p.size() == 1);
    CHECK(p[0].find("values nest deeper than 64 levels") != std::string::npos);
}

TEST_CASE("WorkflowParser.Expressions.ColumnsInsideEveryScalarStyle") {
    // The error is the unknown name `inptus`; each style must point at its 'i'.
    auto where = [](const std::string& with_block) {
        auto r = parse("name: x\nsteps:\n  - id: a\n    uses: log\n    with:\n" + with_block);
        REQUIRE(r.diagnostics.size() == 1);
        const auto& d = r.diagnostics.items()[0];
        CHECK(d.message == "unknown name 'inptus'");
        return std::to_string(d.where.line) + ":" + std::to_string(d.where.column);
    };
    CHECK(where("      message: ${{ inptus.x }}\n") == "6:20");
    CHECK(where("      message: \"${{ inptus.x }}\"\n") == "6:21");
    CHECK(where("      message: \"\\t\\u00e9 ${{ inptus.x }}\"\n") == "6:30");
    CHECK(where("      message: 'it''s ${{ inptus.x }}'\n") == "6:27");
    CHECK(where("      message: |\n        first line\n        then ${{ inptus.x }}\n") == "8:18");
    CHECK(where("      message: >\n        folded\n        text ${{ inptus.x }}\n") == "8:18");
    CHECK(where("      message: \"two\n        lines ${{ inptus.x }}\"\n") == "7:19");
    CHECK(where("      message: plain\n        continued ${{ inptus.x }}\n") == "7:23");
    CHECK(where("      message:\n        - \"${{ 1 }}\"\n        - x ${{ inptus.x }}\n") == "8:17");
}

TEST_CASE("WorkflowParser.Triggers.AndCron") {
    auto r = parse(R"(name: x
on:
  schedule:
    - { cron: "0 2 * * *", timezone: "Europe Berlin" }
    - { cron: "*/15 9-17 * JAN-mar mon-FRI" }
    - { cron: "0 0 * * mon/9" }
    - { cron: "@fortnightly" }
    - { timezone: UTC }
  webhook: [{ provider: Stripe }, { provider: github, events: pull_request }]
  event: [ok.event, Bad.Event]
  command: maybe
steps:
  - { id: a, uses: log }
)");
    auto p = problem_list(r.diagnostics);
    CAPTURE(problems(r.diagnostics));
    REQUIRE(p.size() == 7);
    CHECK(p[0] == "4:38 unknown time zone 'Europe Berlin' (did you mean 'Europe/Berlin'?)");
    CHECK(p[1] == "6:28 invalid cron expression: step 9 out of range 1-7");
    CHECK(p[2].rfind("7:16 invalid cron expression: unknown macro '@fortnightly'", 0) == 0);
    CHECK(p[3] == "8:7 a schedule needs a cron expression");
    CHECK(p[4] == "9:25 invalid provider name 'Stripe'");
    CHECK(p[5] == "10:21 invalid event name 'Bad.Event'");
    CHECK(p[6] == "11:12 'command' must be true or false, not a string");
    CHECK(r.definition->on.webhooks[1].events == std::vector<std::string>{"pull_request"});
}

TEST_CASE("WorkflowParser.Triggers.CronIsParsedByTheScheduler") {
    auto r = parse(R"(name: x
on:
  schedule:
    - cron: "0 0 30 2 *"
    - cron: "5/15 2 * * *"
    - cron: "0 2 * * 1 extra"
    - { cron: "0 0 * * *", timezone: Europe/Berln }
    - { cron: "0 0 31 1,4 *", timezone: America/New_York }
steps:
  - { id: a, uses: log }
)");
    auto p = problem_list(r.diagnostics);
    CAPTURE(problems(r.diagnostics));
    REQUIRE(p.size() == 3);
    CHECK(p[0] == "4:13 cron expression '0 0 30 2 *' never fires: no date matches it");
    CHECK(p[1].rfind("6:24 invalid cron expression: unexpected 6th field 'extra'", 0) == 0);
    CHECK(p[2] == "7:38 unknown time zone 'Europe/Berln' (did you mean 'Europe/Berlin'?)");
}

TEST_CASE("WorkflowParser.Steps.FieldShapes") {
    auto r = parse(R"(name: x
steps:
  - id: a
    uses: log
    if: maybe
    for_each: "items: ${{ inputs.x }}"
    with: [1]
    needs: { a: 1 }
    compensate: { with: {} }
    retry: { attempts: 2, delay: 1m, max_delay: 30s }
  - id: b
    uses: log
    for_each: 3
    max_parallel: 0
    timeout: 0s
)");
    CHECK(problems(r.diagnostics) ==
          lines({
              "5:9 'if' must be true, false or a ${{ }} expression",
              "6:15 'for_each' must be a single ${{ }} expression, without text around it",
              "7:11 'with' of step 'a' must be a mapping, not a list",
              "8:12 'needs' must be a string or a list of strings, not a mapping",
              "9:5 'compensate' needs uses",
              "10:49 'max_delay' is shorter than 'delay'",
              "13:15 'for_each' must be a list or a ${{ }} expression giving one, not an "
              "integer",
              "14:19 'max_parallel' is out of range: 0",
              "15:14 'timeout' must be longer than 0",
          }));
}

TEST_CASE("WorkflowParser.Inputs.NamesAndTypes") {
    auto r = parse(R"(name: x
inputs:
  Bad-Name: string
  amount: { type: mony }
  list: { description: no type }
  other: [1]
steps:
  - { id: a, uses: log }
)");
    auto p = problem_list(r.diagnostics);
    REQUIRE(p.size() == 4);
    CHECK(p[0] == "3:3 invalid input name 'Bad-Name'");
    CHECK(p[1] == "4:19 unknown type 'mony' for input 'amount'");
    CHECK(p[2] == "5:3 input 'list' has no type");
    CHECK(p[3] == "6:10 input 'other' must be a mapping or a type name, not a list");
}

TEST_CASE("WorkflowDefinition.ToJson.IsNormalised") {
    auto r = parse(kFull);
    REQUIRE(r.definition);
    json j = r.definition->to_json();
    CHECK(j["name"] == "billing-cycle");
    CHECK(j["on"]["schedule"][0]["catch_up"] == "latest");
    CHECK(j["on"]["command"] == false);
    CHECK(j["inputs"][1] ==
          json({{"name", "amount"}, {"type", "money"}, {"required", false}, {"description", ""}}));
    CHECK(j["concurrency"]["limit"] == 2);
    CHECK(j["steps"][1]["retry"] == json({{"attempts", 4},
                                          {"backoff", "constant"},
                                          {"delay", "10m"},
                                          {"max_delay", "1d"},
                                          {"jitter", false}}));
    CHECK(j["steps"][1]["timeout"] == "1m");
    CHECK(j["steps"][1]["compensate"]["uses"] == "log");
    CHECK(j["steps"][2]["needs"] == json::array({"invoices"}));
    CHECK(j["on_failure"][0]["id"] == "alert");
}

TEST_CASE("RetryPolicy.Delays.BackoffCapAndJitter") {
    RetryPolicy p;
    p.delay = std::chrono::seconds(10);
    CHECK(p.delay_before(1) == std::chrono::milliseconds(0));
    CHECK(p.delay_before(2) == std::chrono::seconds(10));
    CHECK(p.delay_before(3) == std::chrono::seconds(20));
    CHECK(p.delay_before(5) == std::chrono::seconds(80));
    p.max_delay = std::chrono::seconds(30);
    CHECK(p.delay_before(5) == std::chrono::seconds(30));
    p.max_delay.reset();
    CHECK(p.delay_before(1000) == std::chrono::hours(24 * 365 * 100));  // saturates
    p.backoff = Backoff::kConstant;
    CHECK(p.delay_before(7) == std::chrono::seconds(10));
    CHECK(p.jittered(std::chrono::seconds(10), 0.0) == std::chrono::seconds(5));
    CHECK(p.jittered(std::chrono::seconds(10), 0.5) == std::chrono::milliseconds(7500));
    CHECK(p.jittered(std::chrono::seconds(10), 1.0) < std::chrono::seconds(10));
    p.jitter = false;
    CHECK(p.jittered(std::chrono::seconds(10), 0.3) == std::chrono::seconds(10));
}
