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
