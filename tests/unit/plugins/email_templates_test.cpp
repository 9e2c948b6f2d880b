#include "plugins/email/email_templates.hpp"

#include <doctest/doctest.h>

#include "engine/core/error.hpp"
#include "plugins/email/template_text.hpp"
#include "tests/support/test_env.hpp"

using namespace artistsaid;
using namespace artistsaid::plugins;

TEST_CASE("Templates.VariablesEscapingAndErrors") {
    nlohmann::json data{{"client", {{"name", "A&B <x>"}, {"id", 7}, {"vip", true}}}};
    CHECK(render_template_text("Hi {{client.name}} #{{ client.id }} {{ client.vip }}", data, TemplateEscaping::kNone, "t") ==
          "Hi A&B <x> #7 true");
    CHECK(render_template_text("<b>{{ client.name }}</b>", data, TemplateEscaping::kHtml, "t") ==
          "<b>A&amp;B &lt;x&gt;</b>");
    auto message = [&](const std::string& text) {
        try {
            render_template_text(text, data, TemplateEscaping::kNone, "t.txt");
        } catch (const InputError& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK(message("a\nb {{ client.email }}") == "template t.txt:2: variable 'client.email' is not set");
    CHECK(message("{{ client }}") == "template t.txt:1: variable 'client' is an object, not text");
    CHECK(message("{{ client.name ") == "template t.txt:1: '{{' is not closed");
    CHECK(message("{{ a b }}") == "template t.txt:1: 'a b' is not a variable name");
}

TEST_CASE("Templates.EachLoopsNestAndCheckTheirBody") {
    nlohmann::json data{{"invoice", {{"number", "A-1"},
                                     {"lines", {{{"d", "Plan <b>"}, {"tags", {"x", "y"}}},
                                                {{"d", "Add-on"}, {"tags", nlohmann::json::array()}}}}}}};
    CHECK(render_template_text("{{ invoice.number }}:{{#each invoice.lines}}[{{ index }} {{ item.d }}"
                               "{{#each item.tags}}<{{ item }}>{{/each}}]{{/each}}.",
                               data, TemplateEscaping::kHtml, "t") ==
          "A-1:[0 Plan &lt;b&gt;<x><y>][1 Add-on].");
    CHECK(render_template_text("a{{#each invoice.none_lines}}{{/each}}b", {{"invoice", {{"none_lines", nlohmann::json::array()}}}},
                               TemplateEscaping::kNone, "t") == "ab");
    auto message = [&](const std::string& text) {
        try {
            render_template_text(text, data, TemplateEscaping::kNone, "t.html");
        } catch (const InputError& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK(message("{{#each invoice.lines}}{{ item.d }}") ==
          "template t.html:1: '{{#each' is not closed by '{{/each}}'");
    CHECK(message("x\n{{/each}}") == "template t.html:2: '{{/each}}' without '{{#each'");
    CHECK(message("{{#each invoice.number}}{{/each}}") == "template t.html:1: 'invoice.number' is not a list");
    CHECK(message("{{#each invoice.lines}}{{ item.price }}{{/each}}") ==
          "template t.html:1: variable 'item.price' is not set");
    // An empty list skips its body (nested loops included); an unclosed one is still an error.
    nlohmann::json empty{{"lines", nlohmann::json::array()}};
    CHECK(render_template_text("[{{#each lines}}{{ item.x }}{{#each item.y}}{{/each}}{{/each}}]", empty,
                               TemplateEscaping::kNone, "t") == "[]");
    CHECK_THROWS_AS(render_template_text("{{#each lines}}{{#each x}}{{/each}}", empty, TemplateEscaping::kNone, "t"),
                    InputError);
}

TEST_CASE("Templates.LocaleFallback") {
    EmailTemplates t(test::source_dir() + "/tests/fixtures/email_templates");
    nlohmann::json data{{"client", {{"name", "Ann"}}}, {"plan", {{"name", "P"}, {"price", "1 EUR"}}}};
    CHECK(t.render("welcome", "de-AT", data).locale == "de");
    CHECK(t.render("welcome", "fr", data).locale == "en");
    auto en = t.render("welcome", "en", data);
    CHECK(en.subject == "Welcome, Ann");
    REQUIRE(en.html);
    CHECK_FALSE(t.render("welcome", "de", data).html);
    CHECK_THROWS_AS(t.render("../etc", "en", data), InputError);
    CHECK_THROWS_AS(t.render("welcome", "en/../x", data), InputError);
    CHECK_THROWS_AS(t.render("missing", "en", data), InputError);
}
