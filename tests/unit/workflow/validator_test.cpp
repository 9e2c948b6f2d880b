// Validator: every check, the invalid corpus with exact positions, and the load-time API.
#include "engine/workflow/validator.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/test_env.hpp"

using namespace artistsaid;
using namespace artistsaid::workflow;
namespace fs = std::filesystem;

namespace {

const StepCatalog& catalog() {
    static const StepCatalog c = StepCatalog::with_builtins();
    return c;
}

ValidationResult validate(const std::string& text) {
    return Validator(catalog()).validate(text, "test.yaml");
}

// "line:column message" of every diagnostic, in order.
std::vector<std::string> problem_list(const ValidationResult& r) {
    std::vector<std::string> out;
    for (const auto& d : r.diagnostics.items())
        out.push_back(std::to_string(d.where.line) + ":" + std::to_string(d.where.column) + " " +
                      d.message);
    return out;
}

// The same, one per line (so a failed CHECK shows them).
std::string problems(const ValidationResult& r) {
    std::string out;
    for (const auto& p : problem_list(r)) out += p + "\n";
    return out;
}

std::string lines(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) out += item + "\n";
    return out;
}

std::string read(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

fs::path corpus_dir() { return fs::path(test::source_dir()) / "tests/fixtures/workflows/invalid"; }

// A workflow of `steps` (YAML list items, indented by two spaces) with `head` before it.
std::string make_workflow(const std::string& head, const std::string& steps) {
    return "name: t\n" + head + "steps:\n" + steps;
}

}  // namespace

TEST_CASE("Validator.Examples.AreValid") {
    int count = 0;
    for (const auto& entry :
         fs::directory_iterator(fs::path(test::source_dir()) / "examples/workflows")) {
        CAPTURE(entry.path());
        auto r = Validator(catalog()).validate_file(entry.path());
        CAPTURE(r.diagnostics.render());
        CHECK(r.ok());
        ++count;
    }
    CHECK(count >= 3);
}

TEST_CASE("Validator.Corpus.EveryInvalidFileReportsExactlyItsErrors") {
    int files = 0;
    for (const auto& entry : fs::directory_iterator(corpus_dir())) {
        const fs::path& path = entry.path();
        CAPTURE(path);
        std::string text = read(path);
        REQUIRE(text.find("# Invalid: ") == 0);
        std::vector<std::string> expected;
        std::istringstream lines(text);
        // "# error: LINE:COLUMN message" (std::regex is avoided: GCC 12 warns inside it
        // under the sanitizers).
        for (std::string line; std::getline(lines, line);)
            if (line.rfind("# error: ", 0) == 0) expected.push_back(line.substr(9));
        REQUIRE_FALSE(expected.empty());
        auto r = Validator(catalog()).validate_file(path);
        CAPTURE(r.diagnostics.render());
        CHECK_FALSE(r.ok());
        auto got = problem_list(r);
        CHECK(got.size() == expected.size());
        for (const auto& want : expected) {
            auto space = want.find(' ');
            bool found = std::any_of(got.begin(), got.end(), [&](const std::string& g) {
                return g.compare(0, space + 1, want, 0, space + 1) == 0 &&
                       g.find(want.substr(space + 1)) != std::string::npos;
            });
            CHECK_MESSAGE(found, "missing: " << want);
        }
        ++files;
    }
    CHECK(files >= 30);
}

TEST_CASE("Validator.Corpus.ExactPositionsOfSeveral") {
    auto first = [](const char* name) {
        auto r = Validator(catalog()).validate_file(corpus_dir() / name);
        REQUIRE_FALSE(r.diagnostics.empty());
        const auto& d = r.diagnostics.items().front();
        return std::to_string(d.where.line) + ":" + std::to_string(d.where.column);
    };
    CHECK(first("needs_cycle.yaml") == "7:13");
    CHECK(first("unknown_output.yaml") == "13:50");
    CHECK(first("expression_syntax.yaml") == "10:29");
    CHECK(first("not_upstream.yaml") == "12:36");
    CHECK(first("unknown_step_key.yaml") == "10:5");
    CHECK(first("bad_cron_range.yaml") == "7:15");
    CHECK(first("with_bad_literal.yaml") == "9:17");
    CHECK(first("deep_nesting_expression.yaml") == "9:85");
    CHECK(first("yaml_syntax.yaml") == "8:32");
}

TEST_CASE("Validator.OnePass.ReportsAllErrorsSortedByPosition") {
    auto r = validate(
        make_workflow("inputs:\n  n: integer\n",
                      "  - id: a\n    uses: lgo\n  - id: b\n    needs: [x, a, a]\n    uses: log\n"
                      "    with: { message: \"${{ inputs.m }}\", level: loud }\n"
                      "  - id: a\n    uses: fail\n    with: {}\n"));
    CHECK(problems(r) == lines({
                             "6:11 unknown step type 'lgo'",
                             "8:13 unknown step 'x' in needs",
                             "8:19 'a' is listed twice in needs",
                             "10:34 unknown input 'm'",
                             "10:48 'level' must be one of debug, info, warn, error, not 'loud'",
                             "11:9 duplicate step id 'a'",
                             "13:5 step 'a' (fail) needs 'message' in with",
                         }));
    CHECK(r.diagnostics.items()[3].hint == "did you mean 'n'?");
}

TEST_CASE("Validator.With.ExpressionTypesAgainstDeclaredFields") {
    auto r = validate(
        make_workflow("inputs:\n  count: integer\n  when: datetime\n  flag: boolean\n",
                      "  - id: a\n    uses: wait.until\n    with: { at: \"${{ inputs.count }}\" }\n"
                      "  - id: b\n    uses: wait.until\n    with: { at: \"${{ inputs.when }}\" }\n"
                      "  - id: c\n    uses: workflow.run\n    with: { workflow: x, inputs: \"${{ "
                      "inputs.flag }}\" }\n"
                      "  - id: d\n    uses: log\n    with: { message: \"${{ [1] }}\" }\n"));
    CHECK(problems(r) == lines({
                             "9:17 'at' expects a datetime (RFC 3339, e.g. 2024-05-01T09:30:00Z), "
                             "but this gives an integer",
                             "15:34 'inputs' expects an object, but this gives a boolean",
                             "18:22 'message' expects a string, but this gives an array",
                         }));
}

TEST_CASE("Validator.Outputs.ForEachAggregatesCompensateAndOnFailure") {
    auto r = validate(make_workflow("", R"(  - id: fan
    for_each: [1, 2]
    uses: log
    with: { message: "${{ item }} ${{ index }}" }
    compensate: { uses: log, with: { message: "undo ${{ item }}: ${{ steps.fan.outputs.message }}" } }
  - id: after
    needs: [fan]
    if: "${{ steps.fan.outputs.succeeded_count == steps.fan.outputs.count }}"
    uses: log
    with: { message: "${{ steps.fan.outputs.message }} ${{ len(steps.fan.outputs.results) }}" }
on_failure:
  - id: report
    uses: log
    with: { message: "${{ run.failed_step }} ${{ run.error }} ${{ steps.after.outputs.message }}" }
  - id: report2
    needs: [report]
    uses: log
    with: { message: "${{ steps.report.outputs.message }} ${{ steps.report3.outputs.message }}" }
  - id: report3
    uses: log
    with: { message: "${{ item }}" }
)"));
    CHECK(problems(r) == lines({
                             "12:45 step 'fan' (log) has no output 'message'",
                             "20:69 step 'report3' is not upstream of the 'with' of step 'report2'",
                             "23:27 'item' is only available in a step with for_each",
                         }));
}

TEST_CASE("Validator.Inputs.DefaultsAndConcurrency") {
    auto r = validate(
        "name: t\ninputs:\n"
        "  a: { type: date, default: \"${{ today() }}\" }\n"
        "  b: { type: integer, default: \"${{ inputs.a }}\" }\n"
        "  c: { type: money, default: \"12.345 USD\" }\n"
        "  d: { type: array, default: [1, 2] }\n"
        "  e: { type: integer, default: \"${{ 'x' }}\" }\n"
        "  f: { type: string, default: \"${{ env.HOME }}\" }\n"
        "concurrency: { key: \"k-${{ inputs.zz }}\", limit: 3 }\n"
        "steps:\n  - { id: s, uses: log, with: { message: hi } }\n");
    CHECK(problems(r) ==
          lines({
              "4:37 'inputs' cannot be used in the default of input 'b'",
              "5:30 the default of input 'c': expected money (e.g. '12.34 USD'): invalid amount "
              "\"12.345\" for USD: too many decimals (3 given, USD has 2); refusing to round",
              "9:35 unknown input 'zz'",
          }));
}

TEST_CASE("Validator.Catalog.PluginStepTypesAreChecked") {
    StepCatalog plugins = StepCatalog::with_builtins();
    plugins.add({"payments.charge",
                 "Charge an invoice.",
                 {{"invoice_id", ValueType::kString, true, "", {}},
                  {"amount", ValueType::kMoney, true, "", {}}},
                 {{"charge_id", ValueType::kString, false, "", {}}}});
    std::string text =
        make_workflow("inputs:\n  total: money\n",
                      "  - id: charge\n    uses: payments.charge\n"
                      "    with: { invoice_id: inv_1, amount: \"${{ inputs.total * 2 }}\" }\n"
                      "    compensate: { uses: log, with: { message: \"refund ${{ "
                      "steps.charge.outputs.charge_id }}\" } }\n");
    CHECK(Validator(plugins).validate(text, "p.yaml").ok());
    auto without = Validator(catalog()).validate(text, "p.yaml");
    CHECK(problems(without) == lines({"6:11 unknown step type 'payments.charge'"}));
    auto bad = Validator(plugins).validate(
        make_workflow(
            "", "  - id: c\n    uses: payments.charge\n    with: { invoice_id: 1, amount: 5 }\n"),
        "p.yaml");
    CHECK(problems(bad) ==
          lines({"5:36 'amount': expected money (e.g. '12.34 USD'), got an integer 5"}));
}

TEST_CASE("Validator.Load.ThrowsWithEveryDiagnostic") {
    fs::path dir = fs::temp_directory_path() / test::unique_name("wf_load");
    fs::create_directories(dir);
    std::ofstream(dir / "bad.yaml")
        << "name: t\nsteps:\n  - { id: a, uses: lgo }\n  - { id: b, uses: log }\n";
    std::ofstream(dir / "good.yaml")
        << "name: good\nsteps:\n  - { id: a, uses: log, with: { message: hi } }\n";
    Validator validator(catalog());
    try {
        validator.load_file(dir / "bad.yaml");
        FAIL("no error");
    } catch (const InvalidWorkflowError& e) {
        CHECK(e.diagnostics().size() == 2);
        CHECK(std::string(e.what()) ==
              (dir / "bad.yaml").string() + ":3:20: unknown step type 'lgo' (and 1 more error)");
        CHECK(e.exit_code() == ExitCode::kBadInput);
    }
    CHECK(validator.load_file(dir / "good.yaml").name == "good");
    CHECK_THROWS_AS(validator.load_file(dir / "missing.yaml"), InputError);
    fs::remove_all(dir);
}

TEST_CASE("Diagnostics.Render.LineCaretExpectedAndHint") {
    auto r = validate("name: t\nsteps:\n  - id: a\n\tuses: log\n    nedds: [b]\n");
    // A tab in the indentation is a YAML error; the caret still lines up under it.
    std::string text = r.diagnostics.render();
    CAPTURE(text);
    CHECK(text.find("test.yaml:4:1: error: invalid YAML") == 0);

    auto plain = validate("name: t\nsteps:\n  - id: a\n    uses: log\n    neds: [b]\n");
    CHECK(plain.diagnostics.render() ==
          "test.yaml:4:11: error: step 'a' (log) needs 'message' in with\n"
          " 4 |     uses: log\n"
          "   |           ^\n"
          "   = expected: message: a string — the text to log\n"
          "\n"
          "test.yaml:5:5: error: unknown key 'neds' in step 'a'\n"
          " 5 |     neds: [b]\n"
          "   |     ^\n"
          "   = expected: one of id, name, uses, with, needs, if, for_each, max_parallel, retry, "
          "timeout, on_error, compensate\n"
          "   = help: did you mean 'needs'?\n");
    auto json = plain.diagnostics.to_json();
    REQUIRE(json.size() == 2);
    CHECK(json[0]["line"] == 4);  // sorted by position
    CHECK(json[1]["hint"] == "did you mean 'needs'?");
}

TEST_CASE("Diagnostics.Render.LongLinesShowAWindowAroundTheColumn") {
    auto r = validate("name: t\nsteps:\n  - { id: a, uses: log, with: { message: \"" +
                      std::string(300, 'x') + " ${{ inptus.x }}\" } }\n");
    REQUIRE(r.diagnostics.size() == 1);
    CHECK(r.diagnostics.items()[0].where.column == 348);
    std::istringstream out(r.diagnostics.render());
    std::string header, source, caret;
    std::getline(out, header);
    std::getline(out, source);
    std::getline(out, caret);
    CHECK(source.size() < 200);
    CHECK(source.rfind(" 3 | ...", 0) == 0);
    CHECK(caret.find('^') == source.find("inptus"));
}

TEST_CASE("Validator.Scale.ThousandsOfStepsStayCheap") {
    std::string text =
        "name: big\nsteps:\n  - { id: s0, uses: log, with: { message: \"${{ 1 }}\" } }\n";
    for (int i = 1; i < 3000; ++i)
        text += "  - { id: s" + std::to_string(i) + ", needs: [s" + std::to_string(i - 1) +
                "], uses: log, with: { message: \"${{ steps.s" + std::to_string(i - 1) +
                ".outputs.message }}\" } }\n";
    auto start = std::chrono::steady_clock::now();
    auto r = validate(text);
    CHECK(r.ok());
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));
    // Closing the chain reports one cycle, shortened.
    text += "  - { id: loop, needs: [s2999], uses: log, with: { message: x } }\n";
    text.replace(text.find("id: s0, "), 8, "id: s0, needs: [loop], ");
    auto cyclic = validate(text);
    REQUIRE(cyclic.diagnostics.size() == 1);
    CHECK(cyclic.diagnostics.items()[0].message.find("(2990 more)") != std::string::npos);
}
