// The expression language: values, operators, functions, secrets, limits and hostile input.
#include "engine/workflow/expression.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <string>

using namespace artistsaid;
using namespace artistsaid::workflow;
using nlohmann::json;

namespace {

json eval(std::string_view source, const EvalContext& context = {}) {
    return Expression::compile(source).evaluate(context).data();
}

// The message of the ExpressionError `f` throws ("" if none).
template <typename F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const ExpressionError& e) {
        return e.what();
    }
    return "";
}

std::string compile_error(std::string_view source, const ExpressionLimits& limits = {}) {
    return error_of([&] { Expression::compile(source, limits); });
}

std::string eval_error(std::string_view source, const EvalContext& context = {}) {
    return error_of([&] { eval(source, context); });
}

std::size_t compile_offset(std::string_view source) {
    try {
        Expression::compile(source);
    } catch (const ExpressionError& e) {
        return e.offset();
    }
    return std::string::npos;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

struct Fixture {
    json inputs = {{"name", "Ada"},
                   {"count", 3},
                   {"flag", true},
                   {"amount", {{"amount_minor", 1250}, {"currency", "USD"}}},
                   {"euros", {{"amount_minor", 100}, {"currency", "EUR"}}},
                   {"tags", json::array({"vip", "new"})},
                   {"client", {{"email", "ada@example.com"}, {"plan-name", "pro"}}}};
    json steps = {
        {"fetch", {{"status", "succeeded"}, {"outputs", {{"rows", json::array({1, 2, 3})}}}}},
        {"skipped", {{"status", "skipped"}, {"outputs", json::object()}}}};
    json env = {{"REGION", "eu"}};
    json secrets = {{"API_KEY", "sk_live_abcdef"}};
    json run = {{"id", "0190-abc"}, {"workflow", "billing"}, {"version", 3}};
    json item = {{"id", "inv_1"}, {"total", 7}};
    EvalContext context;

    Fixture() {
        context.inputs = &inputs;
        context.steps = &steps;
        context.env = &env;
        context.secrets = &secrets;
        context.run = &run;
        context.clock = [] {
            return std::chrono::sys_days{std::chrono::year{2024} / 2 / 28} +
                   std::chrono::hours(23) + std::chrono::minutes(30);
        };
    }
};

}  // namespace

TEST_CASE("Expression.Literals.HaveTheirTypes") {
    CHECK(eval("null").is_null());
    CHECK(eval("true") == true);
    CHECK(eval("false") == false);
    CHECK(eval("42") == 42);
    CHECK(eval("9223372036854775807") == INT64_MAX);
    CHECK(eval("'it\\'s'") == "it's");
    CHECK(eval("\"a\\tb\\n\"") == "a\tb\n");
    CHECK(eval("'caf\\u00e9'") == "café");
    CHECK(eval("[1, 'two', null]") == json::array({1, "two", nullptr}));
    CHECK(eval("[]") == json::array());
    CHECK(eval("  ( 1 )  ") == 1);
}

TEST_CASE("Expression.Arithmetic.OnIntegersIsCheckedForOverflow") {
    CHECK(eval("1 + 2 * 3") == 7);
    CHECK(eval("(1 + 2) * 3") == 9);
    CHECK(eval("7 / 2") == 3);
    CHECK(eval("-7 % 3") == -1);
    CHECK(eval("10 - 2 - 3") == 5);
    CHECK(eval("--5") == 5);
    CHECK(contains(eval_error("9223372036854775807 + 1"), "integer overflow in '+'"));
    CHECK(contains(eval_error("-9223372036854775807 - 2"), "integer overflow in '-'"));
    CHECK(contains(eval_error("4611686018427387904 * 2"), "integer overflow in '*'"));
    CHECK(contains(eval_error("1 / 0"), "division by zero"));
    CHECK(contains(eval_error("1 % 0"), "division by zero"));
    CHECK(contains(compile_error("9223372036854775808"), "integer literal out of range"));
    try {
        eval("9223372036854775807 + 1");
        FAIL("no overflow");
    } catch (const ExpressionError& e) {
        CHECK(e.code() == ErrorCode::kOverflow);
        CHECK(e.offset() == 20);
    }
}

TEST_CASE("Expression.Money.SameCurrencyArithmeticAndComparison") {
    Fixture f;
    CHECK(eval("inputs.amount + inputs.amount", f.context) ==
          json({{"amount_minor", 2500}, {"currency", "USD"}}));
    CHECK(eval("inputs.amount * 3", f.context) ==
          json({{"amount_minor", 3750}, {"currency", "USD"}}));
    CHECK(eval("2 * inputs.amount", f.context) ==
          json({{"amount_minor", 2500}, {"currency", "USD"}}));
    CHECK(eval("inputs.amount - money('0.50 USD')", f.context) ==
          json({{"amount_minor", 1200}, {"currency", "USD"}}));
    CHECK(eval("-inputs.amount", f.context) ==
          json({{"amount_minor", -1250}, {"currency", "USD"}}));
    CHECK(eval("inputs.amount > money('12.49', 'USD')", f.context) == true);
    CHECK(eval("inputs.amount == money('12.50 USD')", f.context) == true);
    CHECK(eval("inputs.amount.currency", f.context) == "USD");
    CHECK(eval("string(inputs.amount)", f.context) == "12.50 USD");

    std::string mixed = eval_error("inputs.amount + inputs.euros", f.context);
    CHECK(contains(mixed, "EUR"));
    try {
        eval("inputs.amount + inputs.euros", f.context);
    } catch (const ExpressionError& e) {
        CHECK(e.code() == ErrorCode::kCurrencyMismatch);
    }
    CHECK(contains(eval_error("inputs.amount < inputs.euros", f.context), "EUR"));
    CHECK(contains(eval_error("inputs.amount / 2", f.context), "money cannot be divided"));
    CHECK(contains(eval_error("inputs.amount + 1", f.context), "cannot add money and an integer"));
    CHECK(contains(eval_error("money('1.001 USD')"), "USD"));
    CHECK(contains(eval_error("money('92233720368547758.07 USD') * 2"), "overflow"));
}

TEST_CASE("Expression.Comparison.AndBooleanLogic") {
    Fixture f;
    CHECK(eval("1 < 2 && 2 <= 2 && 3 > 2 && 3 >= 4 == false", f.context) == true);
    CHECK(eval("'abc' < 'abd'") == true);
    CHECK(eval("'2024-01-31' < '2024-02-01'") == true);
    CHECK(eval("inputs.name == 'Ada' && !false", f.context) == true);
    CHECK(eval("inputs.tags == ['vip', 'new']", f.context) == true);
    CHECK(eval("1 == '1'") == false);
    CHECK(eval("null != 0") == true);
    CHECK(eval("false || inputs.flag", f.context) == true);
    // Short-circuit: the right side is not evaluated, so its error does not happen.
    CHECK(eval("false && 1 / 0 == 1") == false);
    CHECK(eval("true || secrets.MISSING == 'x'", f.context) == true);
    CHECK(contains(eval_error("1 && true"), "'&&' needs booleans; the left side is an integer"));
    CHECK(contains(eval_error("false || 'yes'"), "the right side is a string"));
    CHECK(contains(eval_error("!'x'"), "'!' needs a boolean"));
    CHECK(contains(eval_error("1 < 'a'"), "cannot compare an integer and a string with '<'"));
}

TEST_CASE("Expression.Contexts.MemberAndIndexAccess") {
    Fixture f;
    CHECK(eval("inputs.name", f.context) == "Ada");
    CHECK(eval("inputs['name']", f.context) == "Ada");
    CHECK(eval("inputs.client['plan-name']", f.context) == "pro");
    CHECK(eval("inputs.tags[1]", f.context) == "new");
    CHECK(eval("inputs.tags[5]", f.context).is_null());
    CHECK(eval("inputs.tags[-1]", f.context).is_null());
    CHECK(eval("inputs.missing", f.context).is_null());
    CHECK(eval("inputs.missing.deeper", f.context).is_null());
    CHECK(eval("steps.fetch.outputs.rows[2]", f.context) == 3);
    CHECK(eval("steps.fetch.status", f.context) == "succeeded");
    CHECK(eval("steps.skipped.outputs.anything", f.context).is_null());
    CHECK(eval("steps.never_ran.outputs.x", f.context).is_null());
    CHECK(eval("env.REGION", f.context) == "eu");
    CHECK(eval("env.UNSET", f.context).is_null());
    CHECK(eval("run.version", f.context) == 3);
    CHECK(contains(eval_error("inputs.name.first", f.context),
                   "cannot read member 'first' of a string"));
    CHECK(contains(eval_error("inputs.tags[true]", f.context),
                   "an index must be an integer or a string"));

    CHECK(contains(eval_error("item", f.context),
                   "'item' is only available inside a step with for_each"));
    CHECK(contains(eval_error("index", f.context), "for_each"));
    f.context.item = &f.item;
    f.context.index = 4;
    CHECK(eval("item.id", f.context) == "inv_1");
    CHECK(eval("index + 1", f.context) == 5);
    // A context left null reads as an empty object.
    CHECK(eval("inputs.x").is_null());
}

TEST_CASE("Expression.Secrets.AreMarkedAndNeverInMessages") {
    Fixture f;
    Value key = Expression::compile("secrets.API_KEY").evaluate(f.context);
    CHECK(key.data() == "sk_live_abcdef");
    CHECK(key.is_secret());
    CHECK(key.redacted() == "***");
    CHECK(key.redacted_text() == "***");

    // Taint flows through operators and functions.
    CHECK(Expression::compile("'Bearer ' + secrets.API_KEY").evaluate(f.context).is_secret());
    CHECK(Expression::compile("len(secrets.API_KEY)").evaluate(f.context).is_secret());
    CHECK(Expression::compile("format('{0}', upper(secrets.API_KEY))")
              .evaluate(f.context)
              .is_secret());
    CHECK(Expression::compile("[1, secrets.API_KEY]").evaluate(f.context).is_secret());
    CHECK_FALSE(Expression::compile("default(inputs.name, secrets.API_KEY)")
                    .evaluate(f.context)
                    .is_secret());
    CHECK_FALSE(Expression::compile("inputs.name").evaluate(f.context).is_secret());

    // Errors name kinds, never the secret's value.
    for (const char* source : {"secrets.API_KEY + 1", "secrets.API_KEY.x", "secrets.API_KEY < 3",
                               "add_days(secrets.API_KEY, 1)", "!secrets.API_KEY",
                               "money(secrets.API_KEY)", "secrets.API_KEY[0]"}) {
        CAPTURE(source);
        std::string message = eval_error(source, f.context);
        CHECK_FALSE(message.empty());
        CHECK_FALSE(contains(message, "sk_live"));
    }
    CHECK(contains(eval_error("secrets.NOPE", f.context), "secret 'NOPE' is not set"));
}

TEST_CASE("Expression.Functions.TimeComesFromTheContextClock") {
    Fixture f;
    CHECK(eval("today()", f.context) == "2024-02-28");
    CHECK(eval("now()", f.context) == "2024-02-28T23:30:00Z");
    CHECK(eval("add_days(today(), 1)", f.context) == "2024-02-29");
    CHECK(eval("add_days(today(), 2)", f.context) == "2024-03-01");
    CHECK(eval("add_days('2024-03-01', -1)") == "2024-02-29");
    CHECK(eval("add_days('2023-12-31T10:00:00.250+02:00', 1)") == "2024-01-01T10:00:00.250+02:00");
    CHECK(eval("add_days(now(), 7)", f.context) == "2024-03-06T23:30:00Z");
    CHECK(contains(eval_error("add_days('tomorrow', 1)"), "expects a date"));
    CHECK(contains(eval_error("add_days('9999-12-31', 1)"), "outside the years"));
    CHECK(contains(eval_error("add_days('2024-01-01', 'x')"), "number of days"));
    // Without a clock, the system clock is used.
    CHECK(eval("len(today())") == 10);
}

TEST_CASE("Expression.Functions.Strings") {
    Fixture f;
    CHECK(eval("format('{0} owes {1} ({0})', inputs.name, inputs.amount)", f.context) ==
          "Ada owes 12.50 USD (Ada)");
    CHECK(eval("format('{{literal}} {0}', 1)") == "{literal} 1");
    CHECK(eval("format('{0}{1}{2}', null, true, [1])") == "true[1]");
    CHECK(contains(eval_error("format('{1}', 'a')"), "placeholder {1} has no argument"));
    CHECK(contains(eval_error("format('{x}', 'a')"), "invalid placeholder"));
    CHECK(contains(eval_error("format('a}b')"), "unmatched '}'"));
    CHECK(eval("len('café')") == 4);
    CHECK(eval("len(inputs.tags)", f.context) == 2);
    CHECK(eval("len(inputs.client)", f.context) == 2);
    CHECK(eval("len(null)") == 0);
    CHECK(contains(eval_error("len(3)"), "len() expects a string, an array or an object"));
    CHECK(eval("contains(inputs.tags, 'vip')", f.context) == true);
    CHECK(eval("contains(inputs.tags, 'old')", f.context) == false);
    CHECK(eval("contains('hello world', 'lo w')") == true);
    CHECK(eval("contains(null, 'x')") == false);
    CHECK(eval("default(inputs.missing, 'fallback')", f.context) == "fallback");
    CHECK(eval("default(inputs.count, 0)", f.context) == 3);
    CHECK(eval("lower('MiXeD')") == "mixed");
    CHECK(eval("upper('MiXeD')") == "MIXED");
    CHECK(eval("join(inputs.tags, ' + ')", f.context) == "vip + new");
    CHECK(eval("join([1, 2])") == "1,2");
    CHECK(eval("starts_with('invoice-7', 'invoice-')") == true);
    CHECK(eval("ends_with('invoice-7', '-8')") == false);
    CHECK(eval("string(42)") == "42");
    CHECK(eval("'a' + 'b'") == "ab");
}

TEST_CASE("Expression.Syntax.ErrorsSayWhatWasExpectedAndWhere") {
    CHECK(contains(compile_error(""), "empty expression"));
    CHECK(contains(compile_error("1 +"), "expected a value"));
    CHECK(contains(compile_error("(1"), "expected ')'"));
    CHECK(contains(compile_error("a + 1"), "unknown name 'a'"));
    CHECK(contains(compile_error("inputs.a = 1"), "did you mean '=='?"));
    CHECK(contains(compile_error("true & false"), "did you mean '&&'?"));
    CHECK(contains(compile_error("true | false"), "did you mean '||'?"));
    CHECK(contains(compile_error("1 === 1"), "did you mean '=='?"));
    CHECK(contains(compile_error("1.5"), "decimal numbers are not supported"));
    CHECK(contains(compile_error("10m"), "'10m'"));
    CHECK(contains(compile_error("'open"), "unterminated string"));
    CHECK(contains(compile_error("'\\q'"), "unknown escape"));
    CHECK(contains(compile_error("'\\ud800'"), "surrogate"));
    CHECK(contains(compile_error("inptus.x"), "did you mean 'inputs'?"));
    CHECK(contains(compile_error("today"), "call the function: today()"));
    CHECK(contains(compile_error("tody()"), "did you mean 'today'?"));
    CHECK(contains(compile_error("len()"), "len() takes 1 argument (got 0)"));
    CHECK(contains(compile_error("add_days(1)"), "takes 2 arguments"));
    CHECK(contains(compile_error("inputs.x inputs.y"), "after a complete expression"));
    CHECK(contains(compile_error("inputs.1"), "expected a name after '.'"));
    CHECK(contains(compile_error("1 @ 2"), "unexpected character '@'"));
    CHECK(compile_offset("inputs.a == @") == 12);
    CHECK(compile_offset("  inptus.x") == 2);
    CHECK(compile_offset("len(1, 2)") == 0);
}

TEST_CASE("Expression.Limits.HostileInputIsRefusedNotCrashing") {
    SUBCASE("Expression length") {
        CHECK(contains(compile_error(std::string(5000, ' ') + "1"), "the limit is 4096"));
    }
    ExpressionLimits big;
    big.max_expression_bytes = 10'000'000;
    SUBCASE("10,000 open parentheses") {
        CHECK(contains(compile_error(std::string(10'000, '('), big), "nests too deeply"));
        CHECK(
            contains(compile_error(std::string(10'000, '(') + "1" + std::string(10'000, ')'), big),
                     "nests too deeply"));
    }
    SUBCASE("100,000 unary operators") {
        CHECK(contains(compile_error(std::string(100'000, '!') + "true", big), "nests too deeply"));
        CHECK(contains(compile_error(std::string(100'000, '-') + "1", big), "nests too deeply"));
    }
    SUBCASE("Brackets, arrays and calls") {
        CHECK(contains(compile_error(std::string(50'000, '['), big), "nests too deeply"));
        std::string calls;
        for (int i = 0; i < 20'000; ++i) calls += "len(";
        CHECK(contains(compile_error(calls, big), "nests too deeply"));
    }
    SUBCASE("Long operator and member chains") {
        std::string sum = "1";
        for (int i = 0; i < 200'000; ++i) sum += "+1";
        CHECK(contains(compile_error(sum, big), "nests too deeply"));
        std::string member = "inputs";
        for (int i = 0; i < 100'000; ++i) member += ".a";
        CHECK(contains(compile_error(member, big), "nests too deeply"));
        std::string both = "true";
        for (int i = 0; i < 100'000; ++i) both += "&&true||false";
        CHECK(contains(compile_error(both, big), "nests too deeply"));
    }
    SUBCASE("A chain within the limit still works") {
        std::string sum = "1";
        for (int i = 0; i < 60; ++i) sum += "+1";
        CHECK(eval(sum) == 61);
        std::string parens = std::string(60, '(') + "7" + std::string(60, ')');
        CHECK(eval(parens) == 7);
    }
    SUBCASE("Huge string literal") {
        std::string literal = "'" + std::string(2'000'000, 'x') + "'";
        CHECK(contains(compile_error(literal, big), "string literal longer than 1048576 bytes"));
    }
    SUBCASE("Produced strings are bounded") {
        json inputs = {{"s", std::string(700'000, 'a')}, {"list", json::array()}};
        for (int i = 0; i < 2000; ++i) inputs["list"].push_back(std::string(1000, 'b'));
        EvalContext context;
        context.inputs = &inputs;
        CHECK(contains(eval_error("inputs.s + inputs.s", context), "more than 1048576 bytes"));
        CHECK(
            contains(eval_error("format('{0}{0}', inputs.s)", context), "more than 1048576 bytes"));
        CHECK(contains(eval_error("join(inputs.list, '')", context), "more than 1048576 bytes"));
        CHECK(contains(eval_error("string(inputs.list)", context), "more than 1048576 bytes"));
        CHECK(eval("len(inputs.s)", context) == 700'000);
    }
    SUBCASE("Evaluation steps are bounded") {
        json inputs = {{"list", json::array()}};
        for (int i = 0; i < 5000; ++i) inputs["list"].push_back(i);
        EvalContext context;
        context.inputs = &inputs;
        context.limits.max_steps = 1000;
        CHECK(contains(eval_error("contains(inputs.list, -1)", context), "more than 1000 steps"));
        CHECK(contains(eval_error("join(inputs.list)", context), "more than 1000 steps"));
        context.limits.max_steps = 100'000;
        CHECK(eval("contains(inputs.list, 4999)", context) == true);
    }
}

TEST_CASE("Expression.Check.NamesAndTypesAgainstTheScope") {
    std::map<std::string, ValueType> inputs = {{"name", ValueType::kString},
                                               {"amount", ValueType::kMoney},
                                               {"count", ValueType::kInteger},
                                               {"start", ValueType::kDate}};
    std::vector<FieldDescriptor> fetch_outputs = {{"rows", ValueType::kArray, false, "", {}},
                                                  {"total", ValueType::kInteger, false, "", {}}};
    std::map<std::string, ExpressionScope::StepView> steps = {
        {"fetch", {true, "db.query", &fetch_outputs}},
        {"later", {false, "log", nullptr}},
    };
    ExpressionScope scope;
    scope.place = "the 'with' of step 'x'";
    scope.inputs = &inputs;
    scope.steps = &steps;

    auto check = [&](std::string_view source, StaticType want_type, std::string want_issue = "") {
        CAPTURE(source);
        std::vector<ExpressionIssue> issues;
        StaticType type = Expression::compile(source).check(scope, issues);
        if (want_issue.empty()) {
            CHECK(issues.empty());
            if (!issues.empty()) CAPTURE(issues.front().message);
            CHECK(type == want_type);
        } else {
            REQUIRE(issues.size() >= 1);
            CHECK(contains(issues.front().message + " | " + issues.front().hint, want_issue));
        }
        return issues.empty() ? std::size_t{0} : issues.front().offset;
    };

    check("inputs.name", StaticType::kString);
    check("inputs.amount * 2", StaticType::kMoney);
    check("inputs.count + 1", StaticType::kInteger);
    check("steps.fetch.outputs.total > 0", StaticType::kBoolean);
    check("steps.fetch.outputs.rows", StaticType::kArray);
    check("steps.fetch.status == 'succeeded'", StaticType::kBoolean);
    check("len(steps.fetch.outputs.rows) > inputs.count", StaticType::kBoolean);
    check("add_days(inputs.start, 3)", StaticType::kString);
    check("default(inputs.name, 'x')", StaticType::kString);
    check("env.REGION", StaticType::kString);
    check("inputs.amount.currency", StaticType::kString);

    CHECK(check("inputs.nmae", StaticType::kAny, "did you mean 'name'?") == 7);
    check("steps.fech.outputs.rows", StaticType::kAny, "did you mean 'fetch'?");
    CHECK(check("steps.later.outputs.x", StaticType::kAny,
                "is not upstream of the 'with' of step 'x'") == 6);
    check("steps.fetch.outputs.totl", StaticType::kAny,
          "step 'fetch' (db.query) has no output 'totl'");
    check("steps.fetch.output.rows", StaticType::kAny, "unknown member 'output' of steps.fetch");
    check("steps['fe' + 'tch']", StaticType::kAny, "name a step literally");
    check("item.id", StaticType::kAny, "only available in a step with for_each");
    check("run.error", StaticType::kAny, "only available in on_failure steps");
    check("run.eror", StaticType::kAny, "did you mean 'error'?");
    CHECK(check("inputs.amount + 1", StaticType::kAny, "cannot add money and an integer") == 14);
    check("inputs.amount / 2", StaticType::kAny, "money cannot be divided");
    check("inputs.name && true", StaticType::kAny, "needs booleans");
    check("inputs.count == 'three'", StaticType::kAny, "is always false");
    check("!inputs.count", StaticType::kAny, "'!' needs a boolean");
    check("inputs.count.x", StaticType::kAny, "cannot read member 'x' of an integer");
    check("steps.fetch.outputs.rows.first", StaticType::kAny,
          "cannot read member 'first' of an array");
    check("lower(inputs.count)", StaticType::kAny, "lower() expects a string as argument 1");
    check("add_days(inputs.start, 'x')", StaticType::kAny, "an integer number of days");

    // Several problems in one expression are all reported.
    std::vector<ExpressionIssue> issues;
    Expression::compile("inputs.nmae + steps.later.outputs.x + item").check(scope, issues);
    CHECK(issues.size() == 3);

    scope.item = true;
    check("item.id", StaticType::kAny);
    check("index * 2", StaticType::kInteger);
    scope.failure = true;
    check("run.error", StaticType::kString);
    scope.inputs = nullptr;
    check("inputs.name", StaticType::kAny, "'inputs' cannot be used in the 'with' of step 'x'");
    scope.secrets = false;
    check("secrets.KEY", StaticType::kAny, "'secrets' cannot be used");
}

TEST_CASE("Expression.References.StepsAndItem") {
    auto e = Expression::compile("steps.a.outputs.x + steps['b'].outputs.y + steps.a.status");
    CHECK(e.referenced_steps() == std::vector<std::string>{"a", "b"});
    CHECK_FALSE(e.uses_item());
    CHECK(Expression::compile("format('{0}', index)").uses_item());
    CHECK(Expression::compile("item").uses_item());
    CHECK(Expression::compile("inputs.x").source() == "inputs.x");
}
