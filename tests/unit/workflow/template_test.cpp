// Template strings and ValueTemplate blocks: typed vs interpolated results, secrets, limits.
#include "engine/workflow/template.hpp"

#include <doctest/doctest.h>

#include "engine/workflow/value_template.hpp"

using namespace artistsaid::workflow;
using nlohmann::json;

namespace {

struct Fixture {
    json inputs = {{"amount", {{"amount_minor", 500}, {"currency", "EUR"}}},
                   {"count", 2},
                   {"name", "Ada"},
                   {"tags", json::array({"a", "b"})}};
    json secrets = {{"TOKEN", "tok_123456"}};
    EvalContext context;
    Fixture() {
        context.inputs = &inputs;
        context.secrets = &secrets;
    }
};

}  // namespace

TEST_CASE("Template.Render.LoneExpressionKeepsItsType") {
    Fixture f;
    CHECK(Template::parse("${{ inputs.count }}").render(f.context).data() == 2);
    CHECK(Template::parse("${{ inputs.amount }}").render(f.context).data() ==
          json({{"amount_minor", 500}, {"currency", "EUR"}}));
    CHECK(Template::parse("${{ inputs.tags }}").render(f.context).data() ==
          json::array({"a", "b"}));
    CHECK(Template::parse("${{inputs.count}}").is_single_expression());
}

TEST_CASE("Template.Render.InterpolationMakesText") {
    Fixture f;
    auto t = Template::parse(
        "Hi ${{ inputs.name }}, you owe ${{ inputs.amount }} for ${{ inputs.count }} "
        "items ${{ inputs.tags }}${{ inputs.none }}.");
    CHECK_FALSE(t.is_single_expression());
    CHECK(t.render(f.context).data() == "Hi Ada, you owe 5.00 EUR for 2 items [\"a\",\"b\"].");
    CHECK(Template::parse(" ${{ inputs.count }}").render(f.context).data() == " 2");
    CHECK(Template::parse("plain text").is_literal());
    CHECK(Template::parse("plain text").render(f.context).data() == "plain text");
    CHECK(Template::parse("").render(f.context).data() == "");
    // `}}` inside a string literal does not end the expression.
    CHECK(Template::parse("${{ format('{{0}}', 1) }}!").render(f.context).data() == "{0}!");
    CHECK(Template::parse("${{ '}}' }}").render(f.context).data() == "}}");
}

TEST_CASE("Template.Parse.ReportsEveryBadPartWithOffsets") {
    std::vector<ExpressionIssue> issues;
    auto t = Template::parse("a ${{ inptus.x }} b ${{ 1 + }} c ${{ ok", issues);
    CHECK_FALSE(t.has_value());
    REQUIRE(issues.size() == 3);
    CHECK(issues[0].offset == 6);  // inptus
    CHECK(issues[1].message.find("expected a value") == 0);
    CHECK(issues[2].offset == 33);  // the unclosed ${{
    CHECK(issues[2].message == "'${{' is not closed");
    CHECK_THROWS_AS(Template::parse("${{ }}"), ExpressionError);
    try {
        Template::parse("xx ${{ @ }}");
    } catch (const ExpressionError& e) {
        CHECK(e.offset() == 7);
    }
}

TEST_CASE("Template.Render.SecretsTaintTheResult") {
    Fixture f;
    Value v = Template::parse("Bearer ${{ secrets.TOKEN }}").render(f.context);
    CHECK(v.data() == "Bearer tok_123456");
    CHECK(v.is_secret());
    CHECK(v.redacted() == "***");
    CHECK_FALSE(Template::parse("${{ inputs.name }}").render(f.context).is_secret());
}

TEST_CASE("Template.Render.TotalSizeIsBounded") {
    json inputs = {{"s", std::string(600'000, 'x')}};
    EvalContext context;
    context.inputs = &inputs;
    auto t = Template::parse("${{ inputs.s }}${{ inputs.s }}");
    try {
        t.render(context);
        FAIL("no limit");
    } catch (const ExpressionError& e) {
        CHECK(std::string(e.what()).find("longer than 1048576 bytes") != std::string::npos);
    }
    context.limits.max_string_bytes = 2'000'000;
    CHECK(t.render(context).data().get<std::string>().size() == 1'200'000);
}

TEST_CASE("ValueTemplate.Render.ReplacesEachTemplateAndTracksSecretPaths") {
    Fixture f;
    json with = {{"to", "${{ inputs.name }}"},
                 {"count", "${{ inputs.count }}"},
                 {"headers", {{"Authorization", "Bearer ${{ secrets.TOKEN }}"}, {"X", "y"}}},
                 {"list", json::array({"${{ inputs.count + 1 }}", 7})},
                 {"a/b", "${{ secrets.TOKEN }}"},
                 {"plain", 1}};
    auto t = ValueTemplate::parse(with);
    CHECK(t.slots().size() == 5);
    CHECK(t.root_template() == nullptr);
    Value v = t.render(f.context);
    CHECK(v.data()["to"] == "Ada");
    CHECK(v.data()["count"] == 2);
    CHECK(v.data()["list"] == json::array({3, 7}));
    CHECK(v.data()["headers"]["Authorization"] == "Bearer tok_123456");
    CHECK(v.is_secret());
    json shown = v.redacted();
    CHECK(shown["headers"]["Authorization"] == "***");
    CHECK(shown["a/b"] == "***");
    CHECK(shown["headers"]["X"] == "y");
    CHECK(shown["to"] == "Ada");
    CHECK(t.raw() == with);  // the template itself is unchanged
}

TEST_CASE("ValueTemplate.Parse.LiteralsRootsAndErrors") {
    Fixture f;
    CHECK(ValueTemplate::parse(json{{"a", 1}}).is_literal());
    CHECK(ValueTemplate::parse(json{{"a", 1}}).render(f.context).data() == json{{"a", 1}});
    auto root = ValueTemplate::parse("${{ inputs.tags }}");
    REQUIRE(root.root_template() != nullptr);
    CHECK(root.render(f.context).data() == json::array({"a", "b"}));
    auto references =
        ValueTemplate::parse(json{{"a", "${{ steps.x.outputs.y }}"},
                                  {"b", json::array({"${{ item }}", "${{ steps.z.status }}"})}});
    CHECK(references.referenced_steps() == std::vector<std::string>{"x", "z"});
    CHECK(references.uses_item());

    std::vector<std::pair<std::string, ExpressionIssue>> issues;
    auto bad = ValueTemplate::parse(json{{"ok", "${{ 1 }}"}, {"x", {{"y", "${{ 1 + }}"}}}}, issues);
    REQUIRE(issues.size() == 1);
    CHECK(issues[0].first == "/x/y");
    CHECK(bad.slots().size() == 1);
    CHECK_THROWS_AS(ValueTemplate::parse(json{{"x", "${{ ( }}"}}), ExpressionError);
    CHECK(pointer_append("/a", "b/c~d") == "/a/b~1c~0d");
}
