// BankTransferGateway against a real PostgreSQL: transfers become one pain.001 file per
// execution date and currency (checked by tests/unit/gateways/pain001_check.py with lxml
// against the schema subset, independently of the writer), stored through the storage
// backend (the local one here and the signature-checking S3 server of the storage tests,
// tests/support/servers/s3_test_server.py) and recorded with their SHA-256; re-running files
// and stores nothing twice, an object left by a crash before the commit is finished by the
// next run,
// a camt.053 statement booking the EndToEndIds (computed here with the openssl command line)
// marks them paid through `payments import-statement --apply`, and bad IBANs change nothing.
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <nlohmann/json.hpp>

#include "engine/core/error.hpp"
#include "gateways/bank/bank_transfer_batcher.hpp"
#include "gateways/bank/bank_transfer_gateway.hpp"
#include "gateways/gateway_registry.hpp"
#include "gateways/gateway_setup.hpp"
#include "engine/core/digest.hpp"
#include "plugins/payments/bank_file_storage.hpp"
#include "plugins/storage/local_storage.hpp"
#include "plugins/storage/storage_step.hpp"
#include "tests/integration/gateways/gateway_fixture.hpp"
#include "tests/support/cli_runner.hpp"
#include "tests/support/local_server.hpp"
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

std::string read_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

struct BankFixture {
    test::GatewayDatabase db;
    fs::path dir = fs::temp_directory_path() / test::unique_name("aa_bank");
    fs::path out = dir / "out";
    fs::path storage = dir / "storage";  // the local storage backend's root
    fs::path gateways_file = dir / "gateways.yaml";

    BankFixture() {
        fs::create_directories(out);
        fs::create_directories(storage);
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
    // The objects of the local storage backend (its .meta side files left out).
    std::vector<std::string> objects() const {
        std::vector<std::string> found;
        for (const auto& e : fs::recursive_directory_iterator(storage)) {
            auto relative = fs::relative(e.path(), storage).string();
            if (e.is_regular_file() && relative.rfind(".meta", 0) != 0) found.push_back(relative);
        }
        return found;
    }
    payments::BankFileStorage local_store() const {
        return payments::BankFileStorage(std::make_unique<plugins::LocalStorage>(storage.string()));
    }
    test::CliResult cli(std::vector<std::string> args,
                        std::map<std::string, std::string> env = {}) const {
        test::CliOptions options;
        options.env = {{"ARTISTSAID_DATABASE_URL", db.url()},
                       {"ARTISTSAID_STORAGE_DIR", storage.string()}};
        for (auto& [k, v] : env) options.env[k] = v;
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
    auto store = f.local_store();
    auto result = batcher.write_files(store, "2026-12-01", Currency::from_code("EUR"));
    REQUIRE(result.written.size() == 1);
    CHECK(result.existing.empty());
    const auto& file = result.written[0];
    CHECK(file.count == 2);
    CHECK(file.control_sum == Money(30050, Currency::from_code("EUR")));
    CHECK(file.file_name == "pain001-2026-12-01-EUR-1.xml");
    CHECK(file.storage_key == "bank/pain001/2026-12-01/EUR/pain001-2026-12-01-EUR-1.xml");
    CHECK(file.storage_backend == "local");
    const fs::path object = f.storage / file.storage_key;
    std::string check;
    CHECK_MESSAGE(pain001_check(object, 2, "300.50", "payout:a,payout:b", &check) == 0, check);
    // The checksum recorded (file row and document) is the stored bytes' SHA-256, by openssl.
    const std::string openssl_sha = run("openssl dgst -sha256 -r " + object.string()).substr(0, 64);
    CHECK(file.sha256 == openssl_sha);
    const std::string id = std::to_string(file.id);
    CHECK(f.db.text("SELECT sha256 FROM bank_transfer_files WHERE id = " + id) == openssl_sha);
    CHECK(f.db.text("SELECT encode(d.sha256, 'hex') || ' ' || d.kind || ' ' || d.owner_kind || ' ' "
                    "|| d.size_bytes || ' ' || d.storage_key FROM documents d JOIN "
                    "bank_transfer_files b ON b.document_id = d.id AND d.owner_id = b.id WHERE b.id = " + id) ==
          openssl_sha + " bank_file bank_transfer_file " + std::to_string(fs::file_size(object)) + " " +
              file.storage_key);
    CHECK(f.objects().size() == 1);

    // Re-running the same execution: no second file, no new object, no new entries.
    auto rerun = batcher.write_files(store, "2026-12-01", Currency::from_code("EUR"));
    CHECK(rerun.written.empty());
    REQUIRE(rerun.existing.size() == 1);
    CHECK(rerun.existing[0].storage_key == file.storage_key);
    CHECK(rerun.existing[0].sha256 == file.sha256);
    CHECK(f.objects().size() == 1);
    CHECK(f.db.count("SELECT count(*) FROM bank_transfer_files") == 1);
    CHECK(f.db.count("SELECT count(*) FROM documents WHERE kind = 'bank_file'") == 1);

    // All currencies: the CHF file now; the 2026-12-15 transfer only from its date on.
    auto all = batcher.write_files(store, "2026-12-01");
    REQUIRE(all.written.size() == 1);
    CHECK(all.written[0].control_sum == Money(5000, Currency::from_code("CHF")));
    CHECK(f.db.count("SELECT count(*) FROM bank_transfers WHERE file_id IS NULL") == 1);
    auto on_15th = batcher.write_files(store, "2026-12-15");
    REQUIRE(on_15th.written.size() == 1);
    CHECK(on_15th.written[0].count == 1);

    // lookup by key returns the stored state; nothing for a key never sent.
    auto found = lookup_payout(gateway, "payout:b");
    REQUIRE(found.has_value());
    CHECK(found->status == OperationStatus::kPending);
    CHECK(found->amount == Money(18050, Currency::from_code("EUR")));
    CHECK_FALSE(lookup_payout(gateway, "payout:never").has_value());

    // Bad dates write nothing.
    CHECK_THROWS_AS(batcher.write_files(store, "2026-02-30"), InputError);
    CHECK_THROWS_AS(batcher.write_files(store, "tomorrow"), InputError);
    CHECK(f.objects().size() == 3);
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
    const std::string key = "bank/pain001/2026-12-01/EUR/pain001-2026-12-01-EUR-1.xml";
    CHECK(r.out.find("wrote " + key + " (local): 2 transfer(s), control sum 200.25 EUR, sha256 ") !=
          std::string::npos);
    std::string check;
    CHECK_MESSAGE(pain001_check(f.storage / key, 2, "200.25", "payout:artist-1,payout:artist-2", &check) == 0,
                  check);
    // bank_transfer.output_dir still gets a local copy: the same bytes.
    auto path = f.out / "pain001-2026-12-01-EUR-1.xml";
    CHECK(read_bytes(path) == read_bytes(f.storage / key));
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
    CHECK(j["existing"][0]["storage_key"] == key);
    CHECK(f.files().size() == 1);
    CHECK(f.objects().size() == 1);
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
    CHECK(f.objects().empty());
    CHECK(f.db.count("SELECT count(*) FROM bank_transfers") == 0);
    CHECK(f.db.count("SELECT count(*) FROM payouts WHERE status = 'pending'") == 2);

    f.db.exec("UPDATE payee_bank_accounts SET iban = '" + kOtherIban + "' WHERE iban = '" + kBadIban + "'");
    CHECK(f.cli({"payments", "payout-file", "--date", "2026-13-01", "--gateways",
                 f.gateways_file.string()}).exit_code == 2);
    CHECK(f.cli({"payments", "payout-file", "--date", "2026-12-01", "--currency", "XYZ",
                 "--gateways", f.gateways_file.string()}).exit_code == 2);
    CHECK(f.cli({"payments", "payout-file", "--gateways", f.gateways_file.string()}).exit_code == 2);
    CHECK(f.cli({"payments", "payout-file", "--date", "2026-12-01"}).exit_code == 2);
    // No storage configured, a bad backend, or --out FILE for every currency: refused first.
    auto unstored = f.cli({"payments", "payout-file", "--date", "2026-12-01", "--gateways",
                           f.gateways_file.string()}, {{"ARTISTSAID_STORAGE_DIR", ""}});
    CHECK(unstored.exit_code == 2);
    CHECK(unstored.err.find("ARTISTSAID_STORAGE_DIR") != std::string::npos);
    CHECK(f.cli({"payments", "payout-file", "--date", "2026-12-01", "--gateways",
                 f.gateways_file.string()}, {{"ARTISTSAID_STORAGE_BACKEND", "ftp"}}).exit_code == 2);
    CHECK(f.cli({"payments", "payout-file", "--date", "2026-12-01", "--gateways",
                 f.gateways_file.string(), "--out", (f.dir / "one.xml").string()}).exit_code == 2);
    CHECK(f.db.count("SELECT count(*) FROM payouts WHERE status = 'pending'") == 2);
    CHECK(f.files().empty());
    CHECK(f.objects().empty());
    CHECK(f.db.count("SELECT count(*) FROM bank_transfers") == 0);
    auto ok = f.cli({"payments", "payout-file", "--date", "2026-12-01", "--gateways",
                     f.gateways_file.string()});
    INFO(ok.err);
    CHECK(ok.exit_code == 0);
    CHECK(f.files().size() == 1);
    CHECK(f.objects().size() == 1);
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

namespace {

const std::string kS3AccessKey = "AKIABANKFILES0001";
const std::string kS3Secret = "bank-files/S3+secret=key";

// The storage tests' S3 server, checking every request's Signature V4.
struct S3Bucket {
    test::LocalServer server{"s3_test_server.py",
                             {"--access-key", kS3AccessKey, "--secret-key", kS3Secret, "--region",
                              "eu-central-1", "--bucket", "bank-files"}};
    std::map<std::string, std::string> env(const std::string& secret = kS3Secret) const {
        return {{"ARTISTSAID_STORAGE_BACKEND", "s3"},
                {"ARTISTSAID_STORAGE_DIR", ""},
                {"ARTISTSAID_S3_ENDPOINT", server.base_url()},
                {"ARTISTSAID_S3_BUCKET", "bank-files"},
                {"ARTISTSAID_S3_REGION", "eu-central-1"},
                {"ARTISTSAID_SECRET_S3_ACCESS_KEY_ID", kS3AccessKey},
                {"ARTISTSAID_SECRET_S3_SECRET_ACCESS_KEY", secret}};
    }
    // How many PUTs of bank files the server answered with `status`.
    int puts(int status = 200) const {
        const std::string line = "REQUEST PUT /bank-files/bank/pain001/";
        const std::string output = server.output();
        int n = 0;
        for (auto at = output.find(line); at != std::string::npos; at = output.find(line, at + 1)) {
            auto end = output.find('\n', at);
            auto text = output.substr(at, end - at);
            if (text.size() > 4 && text.substr(text.size() - 4) == " " + std::to_string(status)) ++n;
        }
        return n;
    }
};

// The local store, refusing puts under keys containing `refused` (a backend failing halfway).
class RefusingStore final : public BankFileStore {
public:
    RefusingStore(const BankFileStore& inner, std::string refused)
        : inner_(inner), refused_(std::move(refused)) {}
    std::string backend() const override { return inner_.backend(); }
    StoredBankFile put(const std::string& key, const std::string& content,
                       std::chrono::system_clock::time_point deadline) const override {
        if (key.find(refused_) != std::string::npos) throw UnavailableError("storage: refused " + key);
        return inner_.put(key, content, deadline);
    }
    std::optional<std::string> get(const std::string& key,
                                   std::chrono::system_clock::time_point deadline) const override {
        return inner_.get(key, deadline);
    }
    void remove(const std::string& key, std::chrono::system_clock::time_point deadline) const override {
        inner_.remove(key, deadline);
    }

private:
    const BankFileStore& inner_;
    std::string refused_;
};

}  // namespace

TEST_CASE("Gateways.Bank.Cli.PayoutFileGoesToS3OnceWithItsChecksum") {
    BankFixture f;
    S3Bucket s3;
    f.payout("payout:s3-1", 12000, kArtistIban, "COBADEFFXXX");
    f.payout("payout:s3-2", 4550, kOtherIban);
    const auto copy = f.dir / "copy.xml";
    auto r = f.cli({"--json", "payments", "payout-file", "--date", "2026-12-01", "--currency", "EUR",
                    "--gateways", f.gateways_file.string(), "--out", copy.string()},
                   s3.env());
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    auto j = nlohmann::json::parse(r.out);
    REQUIRE(j["written"].size() == 1);
    const auto& written = j["written"][0];
    const std::string key = "bank/pain001/2026-12-01/EUR/pain001-2026-12-01-EUR-1.xml";
    CHECK(written["storage_backend"] == "s3");
    CHECK(written["storage_key"] == key);
    CHECK(written["local_copy"] == copy.string());
    CHECK(s3.puts() == 1);
    CHECK(f.objects().empty());  // not the local backend

    // The object, read back through the signature-checking server, is the generated file.
    auto backend = plugins::make_storage_backend(plugins::PluginEnvironment(s3.env()));
    auto object = backend->get(key, 1 << 20, test::in_seconds(10));
    REQUIRE(object.has_value());
    CHECK(object->content == read_bytes(copy));
    CHECK(object->content_type == "application/xml");
    std::string check;
    CHECK_MESSAGE(pain001_check(copy, 2, "165.50", "payout:s3-1,payout:s3-2", &check) == 0, check);
    const std::string sha = sha256_hex(object->content);
    CHECK(written["sha256"] == sha);
    CHECK(f.db.text("SELECT sha256 || ' ' || storage_backend || ' ' || size_bytes FROM "
                    "bank_transfer_files WHERE storage_key = '" + key + "'") ==
          sha + " s3 " + std::to_string(object->content.size()));
    CHECK(f.db.text("SELECT encode(sha256, 'hex') FROM documents WHERE kind = 'bank_file' AND "
                    "storage_key = '" + key + "'") == sha);
    for (const auto& out : {r.out, r.err}) CHECK(out.find(kS3Secret) == std::string::npos);

    // Again, with the same --out: nothing new is put or recorded; the copy is unchanged.
    auto again = f.cli({"--json", "payments", "payout-file", "--date", "2026-12-01", "--currency",
                        "EUR", "--gateways", f.gateways_file.string(), "--out", copy.string()},
                       s3.env());
    REQUIRE_MESSAGE(again.exit_code == 0, again.err);
    auto k = nlohmann::json::parse(again.out);
    CHECK(k["written"].empty());
    REQUIRE(k["existing"].size() == 1);
    CHECK(k["existing"][0]["sha256"] == sha);
    CHECK(s3.puts() == 1);
    CHECK(f.db.count("SELECT count(*) FROM bank_transfer_files") == 1);
    CHECK(f.db.count("SELECT count(*) FROM documents WHERE kind = 'bank_file'") == 1);
    CHECK(read_bytes(copy) == object->content);

    // A wrong S3 secret: the server refuses the put, nothing is recorded; the next run files it.
    f.payout("payout:s3-3", 999, kArtistIban);
    auto refused = f.cli({"payments", "payout-file", "--date", "2026-12-01", "--gateways",
                          f.gateways_file.string()},
                         s3.env("not-the-secret"));
    CHECK(refused.exit_code != 0);
    CHECK(refused.exit_code != 2);
    CHECK(s3.puts(403) == 1);
    CHECK(f.db.count("SELECT count(*) FROM bank_transfer_files") == 1);
    CHECK(f.db.count("SELECT count(*) FROM bank_transfers WHERE file_id IS NULL") == 1);
    auto later = f.cli({"--json", "payments", "payout-file", "--date", "2026-12-01", "--gateways",
                        f.gateways_file.string()},
                       s3.env());
    REQUIRE_MESSAGE(later.exit_code == 0, later.err);
    auto l = nlohmann::json::parse(later.out);
    REQUIRE(l["written"].size() == 1);
    CHECK(l["written"][0]["storage_key"] == "bank/pain001/2026-12-01/EUR/pain001-2026-12-01-EUR-2.xml");
    CHECK(l["written"][0]["count"] == 1);
    CHECK(s3.puts() == 2);
}

TEST_CASE("Gateways.Bank.ARunCutShortBeforeItsCommitIsFinishedByTheNext") {
    BankFixture f;
    BankTransferGateway gateway(f.settings());
    auto store = f.local_store();
    gateway.transfer(transfer("payout:c1", 12000, kArtistIban));
    gateway.transfer(transfer("payout:c2", 3000, kOtherIban));
    auto chf = transfer("payout:c3", 5000, kArtistIban);
    chf.amount = Money(5000, Currency::from_code("CHF"));
    gateway.transfer(chf);
    BankTransferBatcher batcher(gateway);

    // The store fails at the second currency: the first currency's object is removed again
    // and nothing is recorded.
    RefusingStore refusing(store, "/EUR/");
    CHECK_THROWS_AS(batcher.write_files(refusing, "2026-12-01"), UnavailableError);
    CHECK(f.objects().empty());
    CHECK(f.db.count("SELECT count(*) FROM bank_transfer_files") == 0);
    CHECK(f.db.count("SELECT count(*) FROM documents") == 0);
    CHECK(f.db.count("SELECT count(*) FROM bank_transfers WHERE file_id IS NULL") == 3);

    // A crash after the put and before the commit leaves an object no row names (here: of an
    // earlier batch with fewer transfers). The next run puts the file under the same key and
    // records it.
    const std::string eur_key = BankTransferBatcher::storage_key("2026-12-01", "EUR", 1);
    store.put(eur_key, "<Document>cut short</Document>", test::in_seconds(10));
    auto result = batcher.write_files(store, "2026-12-01");
    REQUIRE(result.written.size() == 2);
    CHECK(f.objects().size() == 2);
    for (const auto& file : result.written) {
        auto bytes = read_bytes(f.storage / file.storage_key);
        CHECK(sha256_hex(bytes) == file.sha256);
        CHECK(f.db.text("SELECT sha256 FROM bank_transfer_files WHERE id = " + std::to_string(file.id)) ==
              file.sha256);
    }
    CHECK(read_bytes(f.storage / eur_key).find("cut short") == std::string::npos);
    std::string check;
    CHECK_MESSAGE(pain001_check(f.storage / eur_key, 2, "150.00", "payout:c1,payout:c2", &check) == 0, check);
    CHECK(f.db.count("SELECT count(*) FROM bank_transfers WHERE file_id IS NULL") == 0);
    CHECK(f.db.count("SELECT count(*) FROM documents WHERE kind = 'bank_file'") == 2);
}

TEST_CASE("Gateways.Bank.Cli.StorageAndGatewaysFromTheConfigFileTheEnvironmentWins") {
    BankFixture f;
    const auto from_file = f.dir / "storage-from-file";
    fs::create_directories(from_file);
    const auto config = f.dir / "artistsaid.yaml";
    std::ofstream(config) << "storage:\n  backend: local\n  dir: " << from_file.string()
                          << "\ngateways:\n  file: " << f.gateways_file.string() << "\n";
    f.payout("payout:cfg-1", 2500, kArtistIban);
    // No --gateways, no ARTISTSAID_STORAGE_DIR: both from the file.
    auto r = f.cli({"--config", config.string(), "payments", "payout-file", "--date", "2026-12-01"},
                   {{"ARTISTSAID_STORAGE_DIR", ""}});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(fs::exists(from_file / "bank/pain001/2026-12-01/EUR/pain001-2026-12-01-EUR-1.xml"));
    CHECK(f.objects().empty());
    // The environment overrides the file.
    f.payout("payout:cfg-2", 2600, kOtherIban);
    auto e = f.cli({"--config", config.string(), "payments", "payout-file", "--date", "2026-12-01"});
    REQUIRE_MESSAGE(e.exit_code == 0, e.err);
    CHECK(f.objects() ==
          std::vector<std::string>{"bank/pain001/2026-12-01/EUR/pain001-2026-12-01-EUR-2.xml"});
    CHECK_FALSE(fs::exists(from_file / "bank/pain001/2026-12-01/EUR/pain001-2026-12-01-EUR-2.xml"));
    // A secret in the file is refused (secrets come from the environment or credentials).
    std::ofstream(config) << "storage:\n  s3_secret_access_key: do-not-put-me-here\n";
    auto secret = f.cli({"--config", config.string(), "config", "show"});
    CHECK(secret.exit_code == 2);
    CHECK(secret.err.find("unknown setting 'storage.s3_secret_access_key'") != std::string::npos);
    CHECK(secret.err.find("do-not-put-me-here") == std::string::npos);
}
