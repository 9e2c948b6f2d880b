// BankTransferGateway against a real PostgreSQL: transfers become one pain.001 file per
// execution date and currency (checked by tests/unit/gateways/pain001_check.py with lxml
// against the schema subset, independently of the writer), re-running files nothing twice,
// a camt.053 statement booking the EndToEndIds (computed here with the openssl command line)
// marks them paid through `payments import-statement --apply`, and bad IBANs change nothing.
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/core/error.hpp"
#include "gateways/bank/bank_transfer_batcher.hpp"
#include "gateways/bank/bank_transfer_gateway.hpp"
#include "gateways/gateway_registry.hpp"
#include "gateways/gateway_setup.hpp"
#include "tests/integration/gateways/gateway_fixture.hpp"
#include "tests/support/cli_runner.hpp"
#include "tests/support/shell.hpp"

using namespace artistsaid;
using namespace artistsaid::gateways;
namespace fs = std::filesystem;

namespace {

const std::string kDebtorIban = "DE02120300000000202051";
const std::string kArtistIban = "DE89370400440532013000";
const std::string kOtherIban = "FR1420041010050500013M02606";
const std::string kBadIban = "DE89370400440532013001";  // right length, wrong check digits

std::string run(const std::string& command, int* status = nullptr) {
    auto r = test::run_shell(command);
    REQUIRE(r.status != -2);
    if (status != nullptr) *status = r.status;
    return r.out;
}

// 'E2E' + the first 32 hex digits of SHA-256(key), upper case, by the openssl command line.
std::string e2e_of(const std::string& key) {
    std::string hex = run("printf '%s' '" + key + "' | openssl dgst -sha256 -r");
    hex = hex.substr(0, 32);
    for (auto& c : hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return "E2E" + hex;
}

int pain001_check(const fs::path& file, int count, const std::string& sum, const std::string& keys,
                  std::string* output) {
    std::string source = test::source_dir();
    int status = -1;
    *output = run("/usr/bin/python3 " + source + "/tests/unit/gateways/pain001_check.py " +
                      file.string() + " --xsd " + source +
                      "/tests/fixtures/bank/pain.001.001.03-subset.xsd --count " +
                      std::to_string(count) + " --sum " + sum + " --exponent 2 --keys " + keys +
                      " 2>&1",
                  &status);
    return status;
}

struct Debit {
    std::string key;
    std::string amount;  // "120.00"
};

// A camt.053.001.02 statement of the platform's account booking `debits` as one batch entry
// and `credits` (remittance text, amount) as single entries.
std::string camt053(const std::vector<Debit>& debits,
                    const std::vector<std::pair<std::string, std::string>>& credits = {}) {
    std::string x =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"><BkToCstmrStmt>"
        "<GrpHdr><MsgId>STMT-T</MsgId><CreDtTm>2026-12-02T06:00:00</CreDtTm></GrpHdr>"
        "<Stmt><Id>T-001</Id><CreDtTm>2026-12-02T06:00:00</CreDtTm><Acct><Id><IBAN>" +
        kDebtorIban + "</IBAN></Id><Ccy>EUR</Ccy></Acct>";
    int n = 0;
    for (const auto& [text, amount] : credits) {
        x += "<Ntry><Amt Ccy=\"EUR\">" + amount + "</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>"
             "<BookgDt><Dt>2026-12-01</Dt></BookgDt><AcctSvcrRef>IN-" + std::to_string(++n) +
             "</AcctSvcrRef><NtryDtls><TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>"
             "<RmtInf><Ustrd>" + text + "</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>";
    }
    if (!debits.empty()) {
        long long total = 0;
        for (const auto& d : debits) {
            auto dot = d.amount.find('.');
            total += std::stoll(d.amount.substr(0, dot)) * 100 + std::stoll(d.amount.substr(dot + 1));
        }
        char sum[32];
        std::snprintf(sum, sizeof sum, "%lld.%02lld", total / 100, total % 100);
        x += std::string("<Ntry><Amt Ccy=\"EUR\">") + sum + "</Amt><CdtDbtInd>DBIT</CdtDbtInd>"
             "<Sts>BOOK</Sts><BookgDt><Dt>2026-12-02</Dt></BookgDt><AcctSvcrRef>OUT-1</AcctSvcrRef>"
             "<NtryDtls><Btch><NbOfTxs>" + std::to_string(debits.size()) + "</NbOfTxs></Btch>";
        for (const auto& d : debits) {
            x += "<TxDtls><Refs><EndToEndId>" + e2e_of(d.key) + "</EndToEndId></Refs><AmtDtls>"
                 "<TxAmt><Amt Ccy=\"EUR\">" + d.amount + "</Amt></TxAmt></AmtDtls></TxDtls>";
        }
        x += "</NtryDtls></Ntry>";
    }
    return x + "</Stmt></BkToCstmrStmt></Document>\n";
}

struct BankFixture {
    test::GatewayDatabase db;
    fs::path dir = fs::temp_directory_path() / test::unique_name("aa_bank");
    fs::path out = dir / "out";
    fs::path gateways_file = dir / "gateways.yaml";

    BankFixture() {
        fs::create_directories(out);
        std::ofstream(gateways_file) << "routing: { default: bank_transfer }\n"
                                        "bank_transfer:\n  output_dir: " << out.string()
                                     << "\n  debtor_name: ArtistsAid GmbH\n  debtor_iban: "
                                     << kDebtorIban << "\n  debtor_bic: BYLADEM1001\n";
    }
    ~BankFixture() { fs::remove_all(dir); }

    BankTransferSettings settings() const {
        return {db.url(), out, "ArtistsAid", "ArtistsAid GmbH", kDebtorIban, "BYLADEM1001"};
    }
    std::vector<fs::path> files() const {
        std::vector<fs::path> found;
        for (const auto& e : fs::directory_iterator(out)) found.push_back(e.path());
        return found;
    }
    test::CliResult cli(std::vector<std::string> args) const {
        test::CliOptions options;
        options.env["ARTISTSAID_DATABASE_URL"] = db.url();
        return test::run_cli(args, options);
    }
    // A provider client with a bank account and a pending bank payout; returns the payout id.
    long long payout(const std::string& key, long long amount, const std::string& iban,
                     const std::string& bic = "") const {
        pqxx::connection conn(db.url());
        pqxx::work tx(conn);
        auto user = tx.exec_params1("INSERT INTO users (email, display_name) VALUES ($1, 'Artist') "
                                    "RETURNING id", key + "@example.test")[0].as<long long>();
        auto client = tx.exec_params1("INSERT INTO clients (kind, user_id, name, country, currency) "
                                      "VALUES ('user', $1, 'Artist', 'DE', 'EUR') RETURNING id",
                                      user)[0].as<long long>();
        tx.exec_params0("INSERT INTO payee_bank_accounts (payee_kind, payee_client_id, "
                        "account_holder, iban, bic) VALUES ('provider', $1, $2, $3, nullif($4, ''))",
                        client, "Mila Künstlerin " + key, iban, bic);
        auto id = tx.exec_params1("INSERT INTO payouts (payee_kind, payee_client_id, amount, currency, "
                                  "method, idempotency_key) VALUES ('provider', $1, $2, 'EUR', 'bank', "
                                  "$3) RETURNING id",
                                  client, amount, key)[0].as<long long>();
        tx.commit();
        return id;
    }
};

TransferRequest transfer(const std::string& key, long long cents, const std::string& iban,
                         const std::string& bic = "") {
    TransferRequest r;
    r.kind = OperationKind::kPayout;
    r.idempotency_key = key;
    r.deadline = test::in_seconds(10);
    r.amount = Money(cents, Currency::from_code("EUR"));
    r.destination = iban;
    r.payee_name = "Payee " + key;
    r.description = "Commission December 2026";
    if (!bic.empty()) r.metadata["bic"] = bic;
    return r;
}

std::optional<GatewayResult> lookup_payout(BankTransferGateway& gateway, const std::string& key) {
    LookupRequest lookup;
    lookup.kind = OperationKind::kPayout;
    lookup.idempotency_key = key;
    lookup.deadline = test::in_seconds(10);
    return gateway.lookup(lookup);
}

}  // namespace

TEST_CASE("Gateways.Bank.TransfersBecomeOnePain001FilePerDateAndCurrency") {
    BankFixture f;
    BankTransferGateway gateway(f.settings());
    auto a = gateway.transfer(transfer("payout:a", 12000, "DE89 3704 0044 0532 0130 00", "COBADEFFXXX"));
    CHECK(a.status == OperationStatus::kPending);
    CHECK(a.provider_id == e2e_of("payout:a"));
    CHECK(gateway.transfer(transfer("payout:b", 18050, kOtherIban)).status == OperationStatus::kPending);
    // The same key again: the same answer, still one row.
    auto again = gateway.transfer(transfer("payout:a", 12000, kArtistIban, "COBADEFFXXX"));
    CHECK(again.status == OperationStatus::kPending);
    CHECK(again.provider_id == a.provider_id);
    // The same key with another amount: refused, not filed.
    auto reused = gateway.transfer(transfer("payout:a", 99999, kArtistIban, "COBADEFFXXX"));
    CHECK(reused.status == OperationStatus::kFailed);
    CHECK_FALSE(reused.retryable);
    CHECK(f.db.count("SELECT count(*) FROM bank_transfers") == 2);

    // Another currency goes into its own file; a later execution date waits.
    auto chf = transfer("payout:chf", 5000, kArtistIban);
    chf.amount = Money(5000, Currency::from_code("CHF"));
    gateway.transfer(chf);
    auto later = transfer("payout:later", 700, kArtistIban);
    later.metadata["execution_date"] = "2026-12-15";
    gateway.transfer(later);

    BankTransferBatcher batcher(gateway);
    auto result = batcher.write_files("2026-12-01", Currency::from_code("EUR"));
    REQUIRE(result.written.size() == 1);
    CHECK(result.existing.empty());
    const auto& file = result.written[0];
    CHECK(file.count == 2);
    CHECK(file.control_sum == Money(30050, Currency::from_code("EUR")));
    CHECK(file.path.filename() == "pain001-2026-12-01-EUR-1.xml");
    std::string check;
    CHECK_MESSAGE(pain001_check(file.path, 2, "300.50", "payout:a,payout:b", &check) == 0, check);
    CHECK(f.files().size() == 1);

    // Re-running the same execution: no second file, no new entries.
    auto rerun = batcher.write_files("2026-12-01", Currency::from_code("EUR"));
    CHECK(rerun.written.empty());
    REQUIRE(rerun.existing.size() == 1);
    CHECK(rerun.existing[0].path == file.path);
    CHECK(f.files().size() == 1);
    CHECK(f.db.count("SELECT count(*) FROM bank_transfer_files") == 1);

    // All currencies: the CHF file now; the 2026-12-15 transfer only from its date on.
    auto all = batcher.write_files("2026-12-01");
    REQUIRE(all.written.size() == 1);
    CHECK(all.written[0].control_sum == Money(5000, Currency::from_code("CHF")));
    CHECK(f.db.count("SELECT count(*) FROM bank_transfers WHERE file_id IS NULL") == 1);
    auto on_15th = batcher.write_files("2026-12-15");
    REQUIRE(on_15th.written.size() == 1);
    CHECK(on_15th.written[0].count == 1);

    // lookup by key returns the stored state; nothing for a key never sent.
    auto found = lookup_payout(gateway, "payout:b");
    REQUIRE(found.has_value());
    CHECK(found->status == OperationStatus::kPending);
    CHECK(found->amount == Money(18050, Currency::from_code("EUR")));
    CHECK_FALSE(lookup_payout(gateway, "payout:never").has_value());

    // Bad dates write nothing.
    CHECK_THROWS_AS(batcher.write_files("2026-02-30"), InputError);
    CHECK_THROWS_AS(batcher.write_files("tomorrow"), InputError);
}

TEST_CASE("Gateways.Bank.BadIbanOrBicIsRefusedAndRecordsNothing") {
    BankFixture f;
    BankTransferGateway gateway(f.settings());
    try {
        gateway.transfer(transfer("payout:bad", 100, kBadIban));
        FAIL("a bad IBAN was accepted");
    } catch (const InputError& e) {
        CHECK(std::string(e.what()).find("IBAN") != std::string::npos);
    }
    CHECK_THROWS_AS(gateway.transfer(transfer("payout:bic", 100, kArtistIban, "COBA1EFF")), InputError);
    CHECK_THROWS_AS(gateway.transfer(transfer("payout:zero", 0, kArtistIban)), InputError);
    auto nameless = transfer("payout:noname", 100, kArtistIban);
    nameless.payee_name.clear();
    CHECK_THROWS_AS(gateway.transfer(nameless), InputError);
    CHECK(f.db.count("SELECT count(*) FROM bank_transfers") == 0);
    // Money is not pulled through this gateway.
    ChargeRequest charge;
    charge.idempotency_key = "charge:1";
    charge.amount = Money(100, Currency::from_code("EUR"));
    auto c = gateway.charge(charge);
    CHECK(c.status == OperationStatus::kFailed);
    CHECK_FALSE(c.retryable);
    // A bad debtor account is refused when the gateway is made.
    auto s = f.settings();
    s.debtor_iban = kBadIban;
    CHECK_THROWS_AS((void)BankTransferGateway(s), InputError);
}

TEST_CASE("Gateways.Bank.RoutingCanChooseBankTransfer") {
    BankFixture f;
    GatewayRegistry registry;
    register_gateways(registry, load_gateway_settings(f.gateways_file.string()), nlohmann::json::object(),
                      f.db.url());
    CHECK(registry.choose(std::nullopt, Currency::from_code("EUR")).name() == "bank_transfer");
    auto bad = nlohmann::json::parse(R"({"bank_transfer": {"output_dir": "/tmp", "debtor_name": "X",
                                         "debtor_iban": "DE00", "colour": "red"}})");
    GatewayRegistry other;
    CHECK_THROWS_AS(register_gateways(other, bad, nlohmann::json::object(), f.db.url()), InputError);
}

TEST_CASE("Gateways.Bank.Cli.PayoutFileThenStatementMarksPayoutsPaid") {
    BankFixture f;
    auto p1 = f.payout("payout:artist-1", 12000, kArtistIban, "COBADEFFXXX");
    auto p2 = f.payout("payout:artist-2", 8025, kOtherIban);
    auto r = f.cli({"payments", "payout-file", "--date", "2026-12-01", "--currency", "EUR",
                    "--gateways", f.gateways_file.string()});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    auto path = f.out / "pain001-2026-12-01-EUR-1.xml";
    CHECK(r.out.find("wrote " + path.string() + ": 2 transfer(s), control sum 200.25 EUR") !=
          std::string::npos);
    std::string check;
    CHECK_MESSAGE(pain001_check(path, 2, "200.25", "payout:artist-1,payout:artist-2", &check) == 0, check);
    CHECK(f.db.count("SELECT count(*) FROM payouts WHERE status = 'processing'") == 2);
    CHECK(f.db.text("SELECT gateway_reference FROM payouts WHERE id = " + std::to_string(p1)) ==
          e2e_of("payout:artist-1"));

    // Again: nothing new written.
    auto again = f.cli({"--json", "payments", "payout-file", "--date", "2026-12-01", "--gateways",
                        f.gateways_file.string()});
    REQUIRE(again.exit_code == 0);
    auto j = nlohmann::json::parse(again.out);
    CHECK(j["written"].empty());
    CHECK(j["existing"].size() == 1);
    CHECK(j["existing"][0]["control_sum"] == "200.25");
    CHECK(f.files().size() == 1);
    CHECK(f.db.count("SELECT count(*) FROM bank_transfers") == 2);

    // The bank books the batch: both payouts paid, the gateway's lookup says succeeded.
    auto statement = f.dir / "camt053.xml";
    std::ofstream(statement) << camt053({{"payout:artist-1", "120.00"}, {"payout:artist-2", "80.25"},
                                         {"payout:stranger", "5.00"}});
    auto imported = f.cli({"--json", "payments", "import-statement", statement.string(), "--apply"});
    INFO(imported.err);
    REQUIRE(imported.exit_code == 0);
    auto report = nlohmann::json::parse(imported.out);
    CHECK(report["matched"].size() == 2);
    CHECK(report["payouts_marked_paid"] == 2);
    REQUIRE(report["unmatched"].size() == 1);
    CHECK(report["unmatched"][0]["reason"].get<std::string>().find("no bank payout has EndToEndId " +
                                                                   e2e_of("payout:stranger")) == 0);
    CHECK(f.db.count("SELECT count(*) FROM payouts WHERE status = 'paid' AND id IN (" +
                     std::to_string(p1) + ", " + std::to_string(p2) + ")") == 2);
    BankTransferGateway gateway(f.settings());
    auto found = lookup_payout(gateway, "payout:artist-2");
    REQUIRE(found.has_value());
    CHECK(found->status == OperationStatus::kSucceeded);
    // Importing the statement again changes nothing.
    auto twice = f.cli({"--json", "payments", "import-statement", statement.string(), "--apply"});
    REQUIRE(twice.exit_code == 0);
    CHECK(nlohmann::json::parse(twice.out)["payouts_marked_paid"] == 0);
}

TEST_CASE("Gateways.Bank.Cli.PayoutFileRefusesBadInputAndWritesNothing") {
    BankFixture f;
    f.payout("payout:good", 1000, kArtistIban);
    auto bad = f.payout("payout:bad", 2000, kBadIban);
    auto r = f.cli({"payments", "payout-file", "--date", "2026-12-01", "--gateways",
                    f.gateways_file.string()});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("payout " + std::to_string(bad) + ": IBAN") != std::string::npos);
    CHECK(f.files().empty());
    CHECK(f.db.count("SELECT count(*) FROM bank_transfers") == 0);
    CHECK(f.db.count("SELECT count(*) FROM payouts WHERE status = 'pending'") == 2);

    f.db.exec("UPDATE payee_bank_accounts SET iban = '" + kOtherIban + "' WHERE iban = '" + kBadIban + "'");
    CHECK(f.cli({"payments", "payout-file", "--date", "2026-13-01", "--gateways",
                 f.gateways_file.string()}).exit_code == 2);
    CHECK(f.cli({"payments", "payout-file", "--date", "2026-12-01", "--currency", "XYZ",
                 "--gateways", f.gateways_file.string()}).exit_code == 2);
    CHECK(f.cli({"payments", "payout-file", "--gateways", f.gateways_file.string()}).exit_code == 2);
    CHECK(f.cli({"payments", "payout-file", "--date", "2026-12-01"}).exit_code == 2);
    CHECK(f.files().empty());
    CHECK(f.db.count("SELECT count(*) FROM bank_transfers") == 0);
    auto ok = f.cli({"payments", "payout-file", "--date", "2026-12-01", "--gateways",
                     f.gateways_file.string()});
    INFO(ok.err);
    CHECK(ok.exit_code == 0);
    CHECK(f.files().size() == 1);
}

TEST_CASE("Gateways.Bank.Cli.IncomingTransferSettlesItsInvoiceOnce") {
    BankFixture f;
    auto invoice = f.db.unpaid_invoice(11900, "EUR", "INV-2026-0042");
    auto statement = f.dir / "camt053-in.xml";
    std::ofstream(statement) << camt053({}, {{"Rechnung INV-2026-0042 danke", "119.00"}});
    auto r = f.cli({"--json", "payments", "import-statement", statement.string(), "--apply"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(nlohmann::json::parse(r.out)["invoices_settled"] == 1);
    const std::string id = std::to_string(invoice);
    CHECK(f.db.text("SELECT status FROM invoices WHERE id = " + id) == "paid");
    CHECK(f.db.count("SELECT amount_paid FROM invoices WHERE id = " + id) == 11900);
    CHECK(f.db.count("SELECT count(*) FROM payments WHERE gateway = 'bank' AND invoice_id = " + id) == 1);
    CHECK(f.db.count("SELECT count(*) FROM ledger_transactions WHERE reference LIKE 'payment:%'") == 1);
    auto again = f.cli({"--json", "payments", "import-statement", statement.string(), "--apply"});
    REQUIRE(again.exit_code == 0);
    CHECK(nlohmann::json::parse(again.out)["invoices_settled"] == 0);
    CHECK(f.db.count("SELECT count(*) FROM payments WHERE invoice_id = " + id) == 1);
}
