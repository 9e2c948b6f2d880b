#include "gateways/bank/bank_transfer_batcher.hpp"

#include <chrono>
#include <map>
#include <pqxx/pqxx>

#include "engine/core/digest.hpp"
#include "engine/core/error.hpp"
#include "engine/store/database.hpp"
#include "gateways/bank/pain001_writer.hpp"

namespace artistsaid::gateways {
namespace {

// Serialises batch runs (any two would otherwise both see the same unfiled transfers).
constexpr long long kBatchLock = 0x42414e4b46494c45;  // "BANKFILE"

struct PlannedFile {
    BankTransferFile file;
    std::string currency;
    std::string message_id;
    std::string content;
    std::vector<long long> transfer_ids;
};

constexpr const char* kFileColumns =
    "id, execution_date::text AS execution_date, currency, sequence, file_name, "
    "coalesce(storage_backend, '') AS storage_backend, coalesce(storage_key, '') AS storage_key, "
    "coalesce(path, '') AS path, sha256, coalesce(document_id, 0) AS document_id, "
    "transfer_count, control_sum";

BankTransferFile file_of(const pqxx::row& row) {
    BankTransferFile f;
    f.id = row["id"].as<long long>();
    f.execution_date = row["execution_date"].as<std::string>();
    f.sequence = row["sequence"].as<int>();
    f.file_name = row["file_name"].as<std::string>();
    f.storage_backend = row["storage_backend"].as<std::string>();
    f.storage_key = row["storage_key"].as<std::string>();
    f.path = row["path"].as<std::string>();
    f.sha256 = row["sha256"].as<std::string>();
    f.document_id = row["document_id"].as<long long>();
    f.count = row["transfer_count"].as<int>();
    f.control_sum = Money(row["control_sum"].as<std::int64_t>(),
                          Currency::from_code(row["currency"].as<std::string>()));
    return f;
}

std::chrono::system_clock::time_point storage_deadline() {
    return std::chrono::system_clock::now() + BankTransferBatcher::kStorageTimeout;
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

std::string BankTransferBatcher::storage_key(const std::string& execution_date,
                                             std::string_view currency, int sequence) {
    return "bank/pain001/" + execution_date + "/" + std::string(currency) + "/pain001-" +
           execution_date + "-" + std::string(currency) + "-" + std::to_string(sequence) + ".xml";
}

BankTransferBatcher::Result BankTransferBatcher::write_files(
    const BankFileStore& files, const std::string& execution_date,
    const std::optional<Currency>& currency) const {
    if (!is_execution_date(execution_date))
        throw InputError("execution date '" + execution_date + "' is not a date (YYYY-MM-DD)");
    const std::string only = currency ? std::string(currency->code()) : std::string();
    Result result;
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

        // Build every file first: a batch the writer refuses puts nothing.
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
            p.message_id = batch.idempotency_key;
            p.file.execution_date = execution_date;
            p.file.sequence = sequence;
            p.file.file_name = "pain001-" + execution_date + "-" + code + "-" + std::to_string(sequence) + ".xml";
            p.file.storage_backend = files.backend();
            p.file.storage_key = storage_key(execution_date, code, sequence);
            p.file.sha256 = sha256_hex(p.content);
            p.file.count = static_cast<int>(transfers.size());
            p.file.control_sum = sum;
            p.file.written = true;
            planned.push_back(std::move(p));
        }

        std::vector<std::string> put_keys;  // removed again if this run does not get to commit
        try {
            for (auto& p : planned) {
                auto stored = files.put(p.file.storage_key, p.content, storage_deadline());
                put_keys.push_back(p.file.storage_key);
                if (stored.sha256 != p.file.sha256 || stored.size != p.content.size())
                    throw WorkError("bank files: the storage backend stored other bytes under " +
                                    p.file.storage_key + " (SHA-256 " + stored.sha256 + ", expected " +
                                    p.file.sha256 + ")");
                p.file.id = tx.exec_params1(
                    "INSERT INTO bank_transfer_files (execution_date, currency, sequence, file_name, "
                    "storage_backend, storage_key, size_bytes, message_id, transfer_count, "
                    "control_sum, sha256) VALUES ($1::date, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
                    "RETURNING id",
                    execution_date, p.currency, p.file.sequence, p.file.file_name,
                    p.file.storage_backend, p.file.storage_key,
                    static_cast<long long>(p.content.size()), p.message_id, p.file.count,
                    p.file.control_sum.minor_units(), p.file.sha256)[0]
                                .as<long long>();
                p.file.document_id = tx.exec_params1(
                    "INSERT INTO documents (owner_kind, owner_id, kind, storage_key, filename, "
                    "content_type, size_bytes, sha256) VALUES ('bank_transfer_file', $1, "
                    "'bank_file', $2, $3, 'application/xml', $4, decode($5, 'hex')) RETURNING id",
                    p.file.id, p.file.storage_key, p.file.file_name,
                    static_cast<long long>(p.content.size()), p.file.sha256)[0]
                                         .as<long long>();
                tx.exec_params0("UPDATE bank_transfer_files SET document_id = $2 WHERE id = $1",
                                p.file.id, p.file.document_id);
                for (long long id : p.transfer_ids)
                    tx.exec_params0("UPDATE bank_transfers SET file_id = $2 WHERE id = $1", id, p.file.id);
                result.written.push_back(p.file);
            }
            auto before = tx.exec_params(
                std::string("SELECT ") + kFileColumns +
                    " FROM bank_transfer_files WHERE execution_date = $1::date AND ($2 = '' OR "
                    "currency = $2) ORDER BY currency, sequence",
                execution_date, only);
            for (const auto& r : before) {
                auto f = file_of(r);
                bool this_run = false;
                for (const auto& w : result.written) this_run = this_run || w.id == f.id;
                if (!this_run) result.existing.push_back(f);
            }
        } catch (...) {
            // Nothing names these objects. Only while this session still holds the lock can
            // no other run have put and recorded the same keys in between.
            if (conn->is_open()) {
                for (const auto& key : put_keys) {
                    try {
                        files.remove(key, storage_deadline());
                    } catch (const std::exception&) {
                        // An orphan object: the next run for the date puts it again.
                    }
                }
            }
            throw;
        }
        tx.commit();
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        store::throw_from_pqxx("writing bank transfer files");
    }
    return result;
}

}  // namespace artistsaid::gateways
