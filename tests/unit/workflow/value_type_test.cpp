// Declared types: names, and coercion of JSON (and text) into their canonical form.
#include "engine/workflow/value_type.hpp"

#include <doctest/doctest.h>

#include "engine/core/error.hpp"
#include "engine/workflow/value.hpp"

using namespace artistsaid;
using namespace artistsaid::workflow;
using nlohmann::json;

namespace {

std::string coerce_error(ValueType type, const json& value) {
    try {
        coerce_value(type, value);
    } catch (const InputError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("ValueType.Names") {
    CHECK(parse_value_type("datetime") == ValueType::kDatetime);
    CHECK_FALSE(parse_value_type("any"));
    CHECK(parse_value_type("any", true) == ValueType::kAny);
    CHECK_FALSE(parse_value_type("Date"));
    CHECK(to_string(ValueType::kMoney) == "money");
    CHECK(input_type_names().size() == 9);
}

TEST_CASE("ValueType.Coerce.CanonicalFormsAndText") {
    CHECK(coerce_value(ValueType::kString, "x") == "x");
    CHECK(coerce_value(ValueType::kString, 42) == "42");
    CHECK(coerce_value(ValueType::kString, true) == "true");
    CHECK(coerce_value(ValueType::kString, money_to_json(Money::parse("1.50 EUR"))) == "1.50 EUR");
    CHECK(coerce_value(ValueType::kInteger, "-17") == -17);
    CHECK(coerce_value(ValueType::kInteger, "+5") == 5);
    CHECK(coerce_value(ValueType::kInteger, 9) == 9);
    CHECK(coerce_value(ValueType::kBoolean, "false") == false);
    CHECK(coerce_value(ValueType::kDate, "2024-02-29") == "2024-02-29");
    CHECK(coerce_value(ValueType::kDatetime, "2024-05-01T09:30:00.5+02:00") ==
          "2024-05-01T09:30:00.5+02:00");
    CHECK(coerce_value(ValueType::kMoney, "12.34 USD") ==
          json({{"amount_minor", 1234}, {"currency", "USD"}}));
    CHECK(coerce_value(ValueType::kMoney, "JPY 500") ==
          json({{"amount_minor", 500}, {"currency", "JPY"}}));
    CHECK(coerce_value(ValueType::kDuration, "90s") == "1m30s");
    CHECK(coerce_value(ValueType::kArray, json::array({1})) == json::array({1}));
    CHECK(coerce_value(ValueType::kObject, json::object()) == json::object());
    CHECK(coerce_value(ValueType::kAny, nullptr).is_null());
}

TEST_CASE("ValueType.Coerce.RefusesWithWhatWasExpected") {
    CHECK(coerce_error(ValueType::kString, json::array()) == "expected a string, got an array []");
    CHECK(coerce_error(ValueType::kInteger, "12abc") ==
          "expected an integer, got a string '12abc'");
    CHECK(coerce_error(ValueType::kInteger, 1.5).find("got a decimal number") != std::string::npos);
    CHECK(coerce_error(ValueType::kInteger, json(18446744073709551615ull))
              .find("expected an integer") == 0);
    CHECK(coerce_error(ValueType::kBoolean, "yes").find("expected a boolean") == 0);
    CHECK(coerce_error(ValueType::kDate, "2023-02-29").find("expected a date (YYYY-MM-DD)") == 0);
    CHECK(coerce_error(ValueType::kDate, "2024-1-01") != "");
    for (const char* bad :
         {"2024-05-01", "2024-05-01T25:00:00Z", "2024-05-01T10:00:00", "2024-05-01T10:00:00+2:00",
          "2024-05-01T10:00:00.Z", "2024-05-01 10:00:00Z"}) {
        CAPTURE(bad);
        CHECK(coerce_error(ValueType::kDatetime, bad).find("expected a datetime") == 0);
    }
    CHECK(coerce_error(ValueType::kMoney, "12.345 USD").find("expected money") == 0);
    CHECK(coerce_error(ValueType::kMoney, json({{"amount_minor", 1}, {"currency", "XXX"}})) != "");
    CHECK(coerce_error(ValueType::kDuration, "soon").find("invalid duration 'soon'") == 0);
    CHECK(coerce_error(ValueType::kObject, json::array()).find("expected an object") == 0);
    CHECK(coerce_error(ValueType::kString, std::string(100, 'x')).empty());
    CHECK(coerce_error(ValueType::kInteger, std::string(100, 'x')).size() < 100);  // quotes are cut
}

TEST_CASE("Value.Money.JsonForm") {
    Money m = Money::parse("-0.05 EUR");
    CHECK(money_from_json(money_to_json(m)) == m);
    CHECK_FALSE(money_from_json(json({{"amount_minor", 1}, {"currency", "EUR"}, {"x", 1}})));
    CHECK_FALSE(money_from_json(json({{"amount_minor", "1"}, {"currency", "EUR"}})));
    CHECK_FALSE(money_from_json(json({{"amount_minor", 1}, {"currency", "eur"}})));
    CHECK(kind_of(money_to_json(m)) == "money");
    CHECK(kind_of(json::object()) == "an object");
    CHECK(value_text(money_to_json(m)) == "-0.05 EUR");
    CHECK(value_text(nullptr) == "");
    CHECK(value_text(json({{"a", 1}})) == "{\"a\":1}");
}

TEST_CASE("Value.Secrets.RedactByPointer") {
    Value v(json({{"a", {{"b", "secret"}, {"c", 1}}}, {"d", "public"}}));
    CHECK_FALSE(v.is_secret());
    v.mark_secret("/a/b");
    v.mark_secret("/a/b");
    CHECK(v.secret_paths().size() == 1);
    CHECK(v.redacted() == json({{"a", {{"b", "***"}, {"c", 1}}}, {"d", "public"}}));
    CHECK(v.data()["a"]["b"] == "secret");
    v.mark_secret();
    CHECK(v.redacted() == "***");
}
