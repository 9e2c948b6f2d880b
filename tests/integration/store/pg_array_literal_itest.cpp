// PgArrayLiteral against a real PostgreSQL: what it builds is parsed back by the server's
// array input into exactly the values that went in (quotes, backslashes, braces, commas,
// spaces, the word NULL, empty strings, JSON text, non-ASCII), NULL elements stay NULL, and
// typed elements (uuid, bigint, boolean, jsonb) read back as their type.
#include <doctest/doctest.h>

#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "engine/store/pg_array_literal.hpp"
#include "tests/support/temp_database.hpp"

namespace {

using artistsaid::store::PgArrayLiteral;

std::vector<std::optional<std::string>> unnest_text(pqxx::connection& conn,
                                                    const std::string& literal,
                                                    const std::string& type) {
    pqxx::read_transaction tx(conn);
    std::vector<std::optional<std::string>> out;
    for (const auto& row : tx.exec_params("SELECT x::text FROM unnest($1::" + type +
                                              "[]) WITH ORDINALITY AS u(x, n) ORDER BY n",
                                          literal)) {
        if (row[0].is_null())
            out.emplace_back(std::nullopt);
        else
            out.emplace_back(row[0].as<std::string>());
    }
    return out;
}

}  // namespace

TEST_CASE("PgArrayLiteral: text elements round-trip through PostgreSQL's array input") {
    artistsaid::test::TempDatabase db;
    pqxx::connection conn(db.url());
    const std::vector<std::string> values = {
        "plain", "", "NULL", "null", "with \"quotes\"", "back\\slash", "trailing\\",
        "{braces}", "a,b", "  spaces  ", "new\nline", "tab\there", "déjà vu ✓",
        R"({"k": "v \"q\" \\", "n": [1, 2, {"x": null}]})"};
    PgArrayLiteral a;
    for (const auto& v : values) a.add(v);
    a.add_null();
    a.add_or_null("");
    a.add_or_null("x");
    CHECK(a.size() == values.size() + 3);
    auto got = unnest_text(conn, a.release(), "text");
    REQUIRE(got.size() == values.size() + 3);
    for (size_t i = 0; i < values.size(); ++i) {
        REQUIRE(got[i].has_value());
        CHECK(*got[i] == values[i]);
    }
    CHECK_FALSE(got[values.size()].has_value());
    CHECK_FALSE(got[values.size() + 1].has_value());
    CHECK(got[values.size() + 2] == std::optional<std::string>("x"));
    // The builder starts over after release().
    CHECK(a.size() == 0);
    CHECK(a.release() == "{}");
}

TEST_CASE("PgArrayLiteral: typed elements") {
    artistsaid::test::TempDatabase db;
    pqxx::connection conn(db.url());

    PgArrayLiteral ids;
    ids.add(std::string("0190f0e2-7c1a-7b3e-9a4d-2f1e3c5b6a70"));
    ids.add_null();
    CHECK(unnest_text(conn, ids.release(), "uuid") ==
          std::vector<std::optional<std::string>>{"0190f0e2-7c1a-7b3e-9a4d-2f1e3c5b6a70",
                                                  std::nullopt});

    PgArrayLiteral numbers;
    numbers.add(0LL);
    numbers.add(-1LL);
    numbers.add(9'007'199'254'740'993LL);
    CHECK(unnest_text(conn, numbers.release(), "bigint") ==
          std::vector<std::optional<std::string>>{"0", "-1", "9007199254740993"});

    PgArrayLiteral flags;
    flags.add(true);
    flags.add(false);
    CHECK(unnest_text(conn, flags.release(), "boolean") ==
          std::vector<std::optional<std::string>>{"true", "false"});

    PgArrayLiteral documents;
    documents.add_json({{"message", "say \"hi\"\\"}, {"n", 2}});
    documents.add_json(nlohmann::json());  // JSON null: a NULL element
    documents.add_json(nlohmann::json::object());
    auto got = unnest_text(conn, documents.release(), "jsonb");
    REQUIRE(got.size() == 3);
    REQUIRE(got[0].has_value());
    CHECK(nlohmann::json::parse(*got[0]) ==
          nlohmann::json({{"message", "say \"hi\"\\"}, {"n", 2}}));
    CHECK_FALSE(got[1].has_value());
    CHECK(got[2] == std::optional<std::string>("{}"));
}

TEST_CASE("PgArrayLiteral: a malformed element type is refused by the server, not misread") {
    artistsaid::test::TempDatabase db;
    pqxx::connection conn(db.url());
    PgArrayLiteral ids;
    ids.add(std::string("not-a-uuid"));
    CHECK_THROWS_AS(unnest_text(conn, ids.release(), "uuid"), pqxx::data_exception);
}
