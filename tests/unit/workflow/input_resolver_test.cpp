// InputResolver: a run's inputs from flags or JSON, typed, defaulted and checked.
#include "engine/workflow/input_resolver.hpp"

#include <doctest/doctest.h>

#include "engine/workflow/validator.hpp"

using namespace artistsaid;
using namespace artistsaid::workflow;
using nlohmann::json;

namespace {

WorkflowDefinition definition() {
    static const StepCatalog catalog = StepCatalog::with_builtins();
    auto r = Validator(catalog).validate(R"(name: invoice
inputs:
  client_id: { type: string, required: true }
  amount: { type: money, required: true }
  count: { type: integer, default: 1 }
  rush: boolean
  due: { type: date, default: "${{ add_days(today(), 30) }}" }
  wait: { type: duration, default: 90s }
  lines: array
  meta: object
  region: { type: string, default: "${{ default(env.REGION, 'eu') }}" }
steps:
  - { id: a, uses: log, with: { message: hi } }
)",
                                         "invoice.yaml");
    REQUIRE(r.ok());
    return *r.definition;
}

std::string error_of(const json& given, const EvalContext& context = {}) {
    WorkflowDefinition def = definition();
    try {
        InputResolver(def).resolve(given, context);
    } catch (const InputError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("InputResolver.Resolve.TextFromFlagsBecomesTyped") {
    WorkflowDefinition def = definition();
    json env = {{"REGION", "us"}};
    EvalContext context;
    context.env = &env;
    context.clock = [] { return std::chrono::sys_days{std::chrono::year{2024} / 1 / 15}; };
    json given =
        InputResolver::parse_assignments({"client_id=c_42", "amount=99.90 EUR", "rush=true",
                                          "lines=[1,2]", "meta={\"a\":1}", "count=3"});
    json out = InputResolver(def).resolve(given, context);
    CHECK(out == json({{"client_id", "c_42"},
                       {"amount", {{"amount_minor", 9990}, {"currency", "EUR"}}},
                       {"count", 3},
                       {"rush", true},
                       {"due", "2024-02-14"},
                       {"wait", "1m30s"},
                       {"lines", json::array({1, 2})},
                       {"meta", {{"a", 1}}},
                       {"region", "us"}}));
    // Absent optional inputs are null; defaults see the context.
    json minimal = InputResolver(def).resolve({{"client_id", "c"}, {"amount", "1 JPY"}}, {});
    CHECK(minimal["rush"].is_null());
    CHECK(minimal["count"] == 1);
    CHECK(minimal["region"] == "eu");
}

TEST_CASE("InputResolver.Resolve.ReportsEveryProblemAtOnce") {
    std::string e = error_of(
        {{"clientid", "x"}, {"amount", "12.345 USD"}, {"count", "many"}, {"rush", nullptr}});
    CAPTURE(e);
    CHECK(e.find("invalid inputs for workflow 'invoice'") == 0);
    CHECK(e.find("unknown input 'clientid' (did you mean 'client_id'?)") != std::string::npos);
    CHECK(e.find("missing required input 'client_id' (string)") != std::string::npos);
    CHECK(e.find("input 'amount': expected money") != std::string::npos);
    CHECK(e.find("input 'count': expected an integer, got a string 'many'") != std::string::npos);
    CHECK(error_of(json::array()).find("must be an object") != std::string::npos);
    CHECK(error_of({{"client_id", "c"}, {"amount", "1 EUR"}, {"lines", "not json"}})
              .find("input 'lines': expected an array") != std::string::npos);
}

TEST_CASE("InputResolver.ParseAssignments") {
    CHECK(InputResolver::parse_assignments({"a=1", "b=x=y", "c="}) ==
          json({{"a", "1"}, {"b", "x=y"}, {"c", ""}}));
    CHECK_THROWS_AS(InputResolver::parse_assignments({"novalue"}), InputError);
    CHECK_THROWS_AS(InputResolver::parse_assignments({"=1"}), InputError);
    CHECK_THROWS_AS(InputResolver::parse_assignments({"a=1", "a=2"}), InputError);
}
