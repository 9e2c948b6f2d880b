// StepCatalog: the built-ins, and registering more the way plugins will.
#include "engine/workflow/step_catalog.hpp"

#include <doctest/doctest.h>

#include "engine/workflow/builtin_step_types.hpp"

using namespace artistsaid;
using namespace artistsaid::workflow;

TEST_CASE("StepCatalog.Builtins.DeclareInputsAndOutputs") {
    StepCatalog catalog = StepCatalog::with_builtins();
    CHECK(catalog.names() ==
          std::vector<std::string>{"fail", "log", "noop", "wait.event", "wait.until",
                                   "workflow.run"});
    const auto* run = catalog.find("workflow.run");
    REQUIRE(run != nullptr);
    CHECK(run->input("workflow")->required);
    CHECK(run->input("inputs")->type == ValueType::kObject);
    CHECK(run->output("run_id")->type == ValueType::kString);
    CHECK(run->output("outputs") != nullptr);
    const auto* wait = catalog.find("wait.event");
    CHECK(wait->input("timeout")->type == ValueType::kDuration);
    CHECK(wait->input("on_timeout")->choices == std::vector<std::string>{"fail", "continue"});
    CHECK(wait->output("timed_out")->type == ValueType::kBoolean);
    CHECK(catalog.find("wait.until")->input("at")->type == ValueType::kDatetime);
    CHECK(catalog.find("log")->output("message") != nullptr);
    CHECK(catalog.find("fail")->outputs.empty());
    CHECK(catalog.find("nope") == nullptr);
    CHECK(for_each_outputs().size() == 5);
}

TEST_CASE("StepCatalog.Add.PluginsRegisterPlainDescriptors") {
    StepCatalog catalog;
    catalog.add({"payments.charge",
                 "Charge an invoice.",
                 {{"invoice_id", ValueType::kString, true, "the invoice", {}},
                  {"amount", ValueType::kMoney, false, "", {}}},
                 {{"charge_id", ValueType::kString, false, "", {}}}});
    REQUIRE(catalog.size() == 1);
    CHECK(catalog.find("payments.charge")->input("amount")->type == ValueType::kMoney);

    CHECK_THROWS_AS(catalog.add({"payments.charge", "", {}, {}}), InputError);
    for (const char* bad : {"", "Payments.charge", "payments..charge", ".x", "x.", "1x", "a-b"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(catalog.add({bad, "", {}, {}}), InputError);
    }
    CHECK_THROWS_AS(
        catalog.add({"dup.fields",
                     "",
                     {{"a", ValueType::kAny, false, "", {}}, {"a", ValueType::kAny, false, "", {}}},
                     {}}),
        InputError);
}
