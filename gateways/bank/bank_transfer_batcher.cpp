#include "gateways/bank/bank_transfer_batcher.hpp"

#include <chrono>
#include <map>
#include <pqxx/pqxx>

#include "engine/core/digest.hpp"
#include "engine/core/error.hpp"
#include "engine/store/database.hpp"
#include "gateways/bank/bank_file_writer.hpp"
#include "gateways/bank/pain001_writer.hpp"

namespace artistsaid::gateways {
namespace fs = std::filesystem;
namespace {

// Serialises batch runs (any two would otherwise both see the same unfiled transfers).
constexpr long long kBatchLock = 0x42414e4b46494c45;  // "BANKFILE"

struct PlannedFile {
    BankTransferFile file;
    std::string currency;
    std::string name;
    std::string message_id;
    std::string content;
    std::vector<long long> transfer_ids;
};

BankTransferFile file_of(const pqxx::row& row) {
    BankTransferFile f;
    f.execution_date = row["execution_date"].as<std::string>();
    f.sequence = row["sequence"].as<int>();
    f.path = row["path"].as<std::string>();
    f.count = row["transfer_count"].as<int>();
    f.control_sum = Money(row["control_sum"].as<std::int64_t>(),
                          Currency::from_code(row["currency"].as<std::string>()));
    return f;
}

}  // namespace

bool BankTransferBatcher::is_execution_date(std::string_view text) {
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
    int parts[3] = {0, 0, 0};
    int part = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (i == 4 || i == 7) {
            ++part;
            continue;
        }
        if (text[i] < '0' || text[i] > '9') return false;
        parts[part] = parts[part] * 10 + (text[i] - '0');
    }
    std::chrono::year_month_day ymd{std::chrono::year(parts[0]),
                                    std::chrono::month(static_cast<unsigned>(parts[1])),
                                    std::chrono::day(static_cast<unsigned>(parts[2]))};
    return parts[0] >= 2000 && ymd.ok();
}

BankTransferBatcher::Result BankTransferBatcher::write_files(
    const std::string& execution_date, const std::optional<Currency>& currency) const {
    if (!is_execution_date(execution_date))
        throw InputError("execution date '" + execution_date + "' is not a date (YYYY-MM-DD)");
    if (!fs::is_directory(settings_.output_dir))
        throw InputError("bank_transfer.output_dir " + settings_.output_dir.string() +
                         " is not a directory");
    const std::string only = currency ? std::string(currency->code()) : std::string();
    BankFileWriter writer(settings_.output_dir);
    Result result;
    std::vector<fs::path> created;  // removed again if the run does not commit
    try {
        auto conn = store::connect(settings_.database_url);
        pqxx::work tx(*conn);
        tx.exec_params("SELECT pg_advisory_xact_lock($1)", kBatchLock);
        auto rows = tx.exec_params(
            "SELECT id, idempotency_key, amount, currency, creditor_name, creditor_iban, "
            "coalesce(creditor_bic, '') AS bic, remittance, "
            "floor(extract(epoch FROM created_at))::bigint AS created FROM bank_transfers "
            "WHERE file_id IS NULL AND status = 'pending' AND (not_before IS NULL OR not_before "
            "<= $1::date) AND ($2 = '' OR currency = $2) ORDER BY currency, id",
            execution_date, only);
        std::map<std::string, std::vector<pqxx::row>> by_currency;
        for (const auto& r : rows) by_currency[r["currency"].as<std::string>()].push_back(r);

        // Build every file first: a batch the writer refuses writes nothing.
        std::vector<PlannedFile> planned;
        for (const auto& [code, transfers] : by_currency) {
            int sequence = tx.exec_params1("SELECT coalesce(max(sequence), 0) + 1 FROM "
                                           "bank_transfer_files WHERE execution_date = $1::date "
                                           "AND currency = $2",
                                           execution_date, code)[0]
                               .as<int>();
            CreditTransferBatch batch;
            batch.idempotency_key = "bank-file:" + execution_date + ":" + code + ":" + std::to_string(sequence);
            batch.execution_date = execution_date;
            batch.initiating_party = settings_.initiating_party;
            batch.debtor_name = settings_.debtor_name;
            batch.debtor_iban = settings_.debtor_iban;
            batch.debtor_bic = settings_.debtor_bic;
            long long latest = 0;
            PlannedFile p;
            p.currency = code;
            Money sum(0, Currency::from_code(code));
            for (const auto& t : transfers) {
                CreditTransfer c;
                c.idempotency_key = t["idempotency_key"].as<std::string>();
                c.amount = Money(t["amount"].as<std::int64_t>(), Currency::from_code(code));
                c.creditor_name = t["creditor_name"].as<std::string>();
                c.creditor_iban = t["creditor_iban"].as<std::string>();
                c.creditor_bic = t["bic"].as<std::string>();
                c.remittance = t["remittance"].as<std::string>();
                sum += c.amount;
                latest = std::max(latest, t["created"].as<long long>());
                batch.transfers.push_back(std::move(c));
                p.transfer_ids.push_back(t["id"].as<long long>());
            }
            batch.created_at = std::chrono::system_clock::time_point(std::chrono::seconds(latest));
            p.content = Pain001Writer().write(batch);
            p.name = "pain001-" + execution_date + "-" + code + "-" + std::to_string(sequence) + ".xml";
            p.message_id = batch.idempotency_key;
            p.file = BankTransferFile{execution_date, sequence, settings_.output_dir / p.name,
                                      static_cast<int>(transfers.size()), sum, true};
            planned.push_back(std::move(p));
        }

        for (auto& p : planned) {
            bool existed = fs::exists(p.file.path);
            p.file.path = writer.write(p.name, p.content);
            if (!existed) created.push_back(p.file.path);
            auto file_id = tx.exec_params1(
                "INSERT INTO bank_transfer_files (execution_date, currency, sequence, file_name, "
                "path, message_id, transfer_count, control_sum, sha256) VALUES ($1::date, $2, $3, "
                "$4, $5, $6, $7, $8, $9) RETURNING id",
                execution_date, p.currency, p.file.sequence, p.name, p.file.path.string(),
                p.message_id, p.file.count, p.file.control_sum.minor_units(),
                sha256_hex(p.content))[0]
                               .as<long long>();
            for (long long id : p.transfer_ids)
                tx.exec_params0("UPDATE bank_transfers SET file_id = $2 WHERE id = $1", id, file_id);
            result.written.push_back(p.file);
        }
        auto before = tx.exec_params(
            "SELECT execution_date::text, currency, sequence, path, transfer_count, control_sum "
            "FROM bank_transfer_files WHERE execution_date = $1::date AND ($2 = '' OR currency = "
            "$2) ORDER BY currency, sequence",
            execution_date, only);
        for (const auto& r : before) {
            auto f = file_of(r);
            bool this_run = false;
            for (const auto& w : result.written) this_run = this_run || w.path == f.path;
            if (!this_run) result.existing.push_back(f);
        }
        tx.commit();
    } catch (...) {
        std::error_code ignored;
        for (const auto& path : created) fs::remove(path, ignored);
        try {
            throw;
        } catch (const Error&) {
            throw;
        } catch (const std::exception&) {
            store::throw_from_pqxx("writing bank transfer files");
        }
    }
    return result;
}

}  // namespace artistsaid::gateways
