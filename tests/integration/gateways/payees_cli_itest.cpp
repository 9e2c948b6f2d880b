// `artistsaid payments payees add|list|show|disable` against a real PostgreSQL, run as the
// operator would (the built binary): IBAN/BIC/holder checked before anything is written
// (exit 2, no row), one active account per payee, IBANs masked in every output and error,
// a disabled account stays on record and is no longer paid to.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "tests/integration/gateways/gateway_fixture.hpp"
#include "tests/support/cli_runner.hpp"
#include "tests/support/test_env.hpp"

using namespace artistsaid;

namespace {

const std::string kIban = "DE89370400440532013000";
const std::string kPrintedIban = "DE89 3704 0044 0532 0130 00";
const std::string kOtherIban = "FR1420041010050500013M02606";
const std::string kBadIban = "DE89370400440532013001";  // check digits wrong

struct PayeesFixture {
    test::GatewayDatabase db;
    long long client = 0;
    long long affiliate = 0;

    PayeesFixture() {
        pqxx::connection conn(db.url());
        pqxx::work tx(conn);
        auto user = tx.exec1("INSERT INTO users (email, display_name) VALUES "
                             "('mila@example.test', 'Mila') RETURNING id")[0].as<long long>();
        client = tx.exec_params1("INSERT INTO clients (kind, user_id, name, country, currency) "
                                 "VALUES ('user', $1, 'Mila Atelier', 'DE', 'EUR') RETURNING id",
                                 user)[0].as<long long>();
        affiliate = tx.exec1("INSERT INTO affiliates (name, referral_code) VALUES ('Promo Ltd', "
                             "'promo-1') RETURNING id")[0].as<long long>();
        tx.commit();
    }
    test::CliResult cli(std::vector<std::string> args) const {
        test::CliOptions options;
        options.env["ARTISTSAID_DATABASE_URL"] = db.url();
        return test::run_cli(args, options);
    }
    long long accounts() const { return db.count("SELECT count(*) FROM payee_bank_accounts"); }
};

// Neither the electronic nor the printed form of any test IBAN appears.
void check_no_iban(const test::CliResult& r) {
    for (const auto& iban : {kIban, kPrintedIban, kOtherIban, kBadIban, std::string("0532013000")}) {
        CHECK_MESSAGE(r.out.find(iban) == std::string::npos, iban);
        CHECK_MESSAGE(r.err.find(iban) == std::string::npos, iban);
    }
}

}  // namespace

TEST_CASE("Gateways.Cli.Payees.AddChecksTheAccountAndRefusesBadInputWithoutWriting") {
    PayeesFixture f;
    const std::string client = std::to_string(f.client);
    auto add = [&](std::vector<std::string> extra) {
        std::vector<std::string> args = {"payments", "payees", "add"};
        args.insert(args.end(), extra.begin(), extra.end());
        return f.cli(args);
    };
    // Bad IBAN (mod 97), bad BIC, no holder, a control character, an unknown payee, both or
    // neither payee flag: exit 2, no row, no IBAN echoed.
    auto bad = add({"--client", client, "--holder", "Mila Künstlerin", "--iban", kBadIban});
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find("invalid IBAN: it fails its check digits (mod 97)") != std::string::npos);
    check_no_iban(bad);
    CHECK(add({"--client", client, "--holder", "Mila", "--iban", kIban, "--bic", "COBA1EFF"}).exit_code == 2);
    CHECK(add({"--client", client, "--holder", "   ", "--iban", kIban}).exit_code == 2);
    CHECK(add({"--client", client, "--holder", "Mila\tK", "--iban", kIban}).exit_code == 2);
    CHECK(add({"--client", client, "--iban", kIban}).exit_code == 2);
    CHECK(add({"--client", client, "--holder", std::string(141, 'a'), "--iban", kIban}).exit_code == 2);
    auto unknown = add({"--client", "999999", "--holder", "Mila", "--iban", kIban});
    CHECK(unknown.exit_code == 2);
    CHECK(unknown.err.find("there is no client 999999") != std::string::npos);
    CHECK(add({"--client", client, "--affiliate", std::to_string(f.affiliate), "--holder", "Mila",
               "--iban", kIban}).exit_code == 2);
    CHECK(add({"--holder", "Mila", "--iban", kIban}).exit_code == 2);
    CHECK(add({"--client", "abc", "--holder", "Mila", "--iban", kIban}).exit_code == 2);
    CHECK(f.accounts() == 0);

    // A good one, in printed form: stored electronic, shown masked.
    auto ok = f.cli({"--json", "payments", "payees", "add", "--client", client, "--holder",
                     "Mila Künstlerin", "--iban", kPrintedIban, "--bic", "cobadeffxxx"});
    REQUIRE_MESSAGE(ok.exit_code == 0, ok.err);
    check_no_iban(ok);
    auto j = nlohmann::json::parse(ok.out);
    CHECK(j["iban"] == "******************3000");
    CHECK(j["bic"] == "COBADEFFXXX");
    CHECK(j["holder"] == "Mila Künstlerin");
    CHECK(j["payee_kind"] == "provider");
    CHECK(j["payee_id"] == f.client);
    CHECK(j["active"] == true);
    CHECK(f.db.text("SELECT iban FROM payee_bank_accounts") == kIban);

    // The same payee again (same or other IBAN): exit 2, nothing written, IBAN masked.
    auto twice = add({"--client", client, "--holder", "Mila", "--iban", kIban});
    CHECK(twice.exit_code == 2);
    CHECK(twice.err.find("client " + client + " already has an active bank account") != std::string::npos);
    CHECK(twice.err.find("******************3000") != std::string::npos);
    check_no_iban(twice);
    CHECK(add({"--client", client, "--holder", "Mila", "--iban", kOtherIban}).exit_code == 2);
    CHECK(f.accounts() == 1);

    // An affiliate, without BIC.
    auto aff = add({"--affiliate", std::to_string(f.affiliate), "--holder", "Promo Ltd", "--iban", kOtherIban});
    REQUIRE_MESSAGE(aff.exit_code == 0, aff.err);
    CHECK(aff.out.find("IBAN ***********************2606") != std::string::npos);
    check_no_iban(aff);
    CHECK(f.accounts() == 2);
}

TEST_CASE("Gateways.Cli.Payees.ListShowAndDisableKeepHistoryAndMaskIbans") {
    PayeesFixture f;
    const std::string client = std::to_string(f.client);
    auto added = f.cli({"--json", "payments", "payees", "add", "--client", client, "--holder",
                        "Mila Künstlerin", "--iban", kIban});
    REQUIRE_MESSAGE(added.exit_code == 0, added.err);
    const auto id = nlohmann::json::parse(added.out)["id"].get<long long>();
    const std::string sid = std::to_string(id);

    auto list = f.cli({"payments", "payees", "list"});
    REQUIRE(list.exit_code == 0);
    check_no_iban(list);
    CHECK(list.out.find("******************3000") != std::string::npos);
    CHECK(list.out.find("Mila Künstlerin") != std::string::npos);
    CHECK(list.out.find("1 account(s)") != std::string::npos);
    auto show = f.cli({"payments", "payees", "show", sid});
    REQUIRE(show.exit_code == 0);
    check_no_iban(show);
    CHECK(show.out.find("client " + client + " (Mila Atelier)") != std::string::npos);
    auto shown = f.cli({"--json", "payments", "payees", "show", sid});
    REQUIRE(shown.exit_code == 0);
    CHECK(nlohmann::json::parse(shown.out)["iban"] == "******************3000");
    CHECK(f.cli({"payments", "payees", "show", "424242"}).exit_code == 2);
    CHECK(f.cli({"payments", "payees", "show", "x"}).exit_code == 2);

    // A payout is filed to the account (its transfer keeps its own copy of the IBAN).
    f.db.exec("INSERT INTO bank_transfers (kind, idempotency_key, end_to_end_id, request_hash, "
              "amount, currency, creditor_name, creditor_iban) VALUES ('payout', 'payout:old', "
              "'E2EOLD', 'h', 1000, 'EUR', 'Mila Künstlerin', '" + kIban + "')");

    auto disabled = f.cli({"payments", "payees", "disable", sid});
    REQUIRE_MESSAGE(disabled.exit_code == 0, disabled.err);
    CHECK(disabled.out.find("disabled bank account " + sid) != std::string::npos);
    auto again = f.cli({"--json", "payments", "payees", "disable", sid});
    REQUIRE(again.exit_code == 0);
    CHECK(nlohmann::json::parse(again.out)["disabled"] == false);
    CHECK(f.cli({"payments", "payees", "disable", "424242"}).exit_code == 2);

    // Kept on record: not in the list, in list --all as disabled; the transfer still there.
    auto active = f.cli({"--json", "payments", "payees", "list"});
    REQUIRE(active.exit_code == 0);
    CHECK(nlohmann::json::parse(active.out).empty());
    auto all = f.cli({"--json", "payments", "payees", "list", "--all"});
    REQUIRE(all.exit_code == 0);
    check_no_iban(all);
    auto rows = nlohmann::json::parse(all.out);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0]["active"] == false);
    CHECK_FALSE(rows[0]["disabled_at"].is_null());
    CHECK(f.db.count("SELECT count(*) FROM bank_transfers WHERE creditor_iban = '" + kIban + "'") == 1);

    // A bank payout to the payee now has no account to go to.
    f.db.exec("INSERT INTO payouts (payee_kind, payee_client_id, amount, currency, method, "
              "idempotency_key) VALUES ('provider', " + client + ", 500, 'EUR', 'bank', 'payout:new')");
    auto gateways_file = std::filesystem::temp_directory_path() / test::unique_name("payees_gw.yaml");
    auto storage = std::filesystem::temp_directory_path() / test::unique_name("payees_storage");
    std::filesystem::create_directories(storage);
    std::ofstream(gateways_file) << "bank_transfer:\n  debtor_name: ArtistsAid GmbH\n  debtor_iban: "
                                    "DE02120300000000202051\n";
    test::CliOptions options;
    options.env = {{"ARTISTSAID_DATABASE_URL", f.db.url()}, {"ARTISTSAID_STORAGE_DIR", storage.string()}};
    auto payout = test::run_cli({"payments", "payout-file", "--date", "2026-12-01", "--gateways",
                                 gateways_file.string()}, options);
    CHECK(payout.exit_code == 2);
    CHECK(payout.err.find("the payee has no active bank account") != std::string::npos);

    // A new account for the payee can be added once the old one is disabled.
    auto replaced = f.cli({"payments", "payees", "add", "--client", client, "--holder", "Mila K",
                           "--iban", kOtherIban});
    CHECK_MESSAGE(replaced.exit_code == 0, replaced.err);
    CHECK(f.accounts() == 2);
    auto filed = test::run_cli({"payments", "payout-file", "--date", "2026-12-01", "--gateways",
                                gateways_file.string()}, options);
    CHECK_MESSAGE(filed.exit_code == 0, filed.err);
    CHECK(f.db.text("SELECT creditor_iban FROM bank_transfers WHERE idempotency_key = 'payout:new'") ==
          kOtherIban);
    std::filesystem::remove(gateways_file);
    std::filesystem::remove_all(storage);
}

TEST_CASE("Gateways.Cli.Payees.IbanFromAFileStaysOffTheCommandLine") {
    PayeesFixture f;
    const auto dir = std::filesystem::temp_directory_path() / test::unique_name("aa_iban");
    std::filesystem::create_directories(dir);
    auto write = [&](const std::string& name, const std::string& text) {
        std::ofstream(dir / name) << text;
        return (dir / name).string();
    };
    auto add = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {"--json", "payments", "payees", "add"});
        auto r = f.cli(args);
        check_no_iban(r);
        return r;
    };
    const std::string client = std::to_string(f.client);
    // Both, neither, an unreadable file, an empty first line, a bad IBAN: exit 2, no row.
    CHECK(add({"--client", client, "--holder", "Mila", "--iban", kIban, "--iban-file",
               write("good", kIban + "\n")}).exit_code == 2);
    CHECK(add({"--client", client, "--holder", "Mila"}).exit_code == 2);
    CHECK(add({"--client", client, "--holder", "Mila", "--iban-file", (dir / "nope").string()})
              .exit_code == 2);
    CHECK(add({"--client", client, "--holder", "Mila", "--iban-file", write("empty", "\nDE")})
              .exit_code == 2);
    CHECK(add({"--client", client, "--holder", "Mila", "--iban-file", write("bad", kBadIban)})
              .exit_code == 2);
    CHECK(f.accounts() == 0);
    // The printed form with a CRLF ending, as an editor on another system might save it.
    auto r = add({"--client", client, "--holder", "Mila", "--iban-file",
                  write("printed", kPrintedIban + "\r\n")});
    INFO(r.out, r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(nlohmann::json::parse(r.out)["iban"] == "******************3000");
    CHECK(f.db.count("SELECT count(*) FROM payee_bank_accounts WHERE iban = '" + kIban + "'") == 1);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
}

TEST_CASE("Gateways.Cli.Payees.HelpAtEveryLevel") {
    PayeesFixture f;
    auto group = f.cli({"payments", "payees", "--help"});
    CHECK(group.exit_code == 0);
    for (const char* c : {"add", "list", "show", "disable"}) CHECK(group.out.find(c) != std::string::npos);
    auto add = f.cli({"payments", "payees", "add", "--help"});
    CHECK(add.exit_code == 0);
    for (const char* o : {"--client", "--affiliate", "--holder", "--iban", "--bic"})
        CHECK(add.out.find(o) != std::string::npos);
    CHECK(f.cli({"payments", "--help"}).out.find("payees") != std::string::npos);
    CHECK(f.cli({"payments", "payees"}).exit_code == 2);
}
