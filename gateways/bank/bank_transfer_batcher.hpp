// BankTransferBatcher: writes the bank gateway's pending transfers into pain.001 files.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/money.hpp"
#include "gateways/bank/bank_file_store.hpp"
#include "gateways/bank/bank_transfer_gateway.hpp"

namespace artistsaid::gateways {

/// One pain.001 file (a row of bank_transfer_files).
struct BankTransferFile {
    long long id = 0;
    std::string execution_date;
    int sequence = 1;
    std::string file_name;        // pain001-<date>-<CCY>-<sequence>.xml
    std::string storage_backend;  // "local" or "s3"; "" for a file written before 0012
    std::string storage_key;      // bank/pain001/<date>/<CCY>/<file name>
    std::filesystem::path path;   // only for files written to a directory before 0012
    std::string sha256;           // hex of the file's bytes
    long long document_id = 0;    // its `documents` row (kind bank_file); 0 before 0012
    int count = 0;
    Money control_sum{0, Currency::from_code("EUR")};
    bool written = false;  // written by this run (false: it was written before)
};

/// For an execution date (and optionally one currency), collects every transfer in
/// bank_transfers that no file carries yet and may be executed by then (its metadata
/// execution_date, if any, is on or before the date), and writes ONE pain.001.001.03 file
/// per currency (Pain001Writer: one PmtInf with batch booking, NbOfTxs and CtrlSum exact,
/// EndToEndId from each transfer's idempotency key) into the storage backend under
///   bank/pain001/<YYYY-MM-DD>/<CCY>/pain001-<YYYY-MM-DD>-<CCY>-<sequence>.xml
/// recording it in bank_transfer_files (key, backend, SHA-256, size) and as a `documents`
/// row (owner bank_transfer_file, kind bank_file).
///
/// Once only: the files are built first (a bad batch puts nothing), then each is put and
/// recorded in the transaction that assigns the transfers to it, under an advisory lock
/// that serialises runs. If anything fails before the commit, the objects this run put are
/// removed (the lock still held, so no other run can have recorded them). A crash between a
/// put and the commit leaves an object no row names; the next run builds the file for the
/// same transfers under the same key and puts it again (a put replaces, so a batch that
/// gained transfers since replaces the orphan), then records it. Running again with nothing
/// new puts nothing; transfers arriving after a date's file was written go into that date's
/// next sequence number. A file's content depends only on its transfers and the debtor
/// settings (CreDtTm is the latest transfer's creation time).
///
/// Thread-safety: stateless apart from its settings; each call opens its own connection.
class BankTransferBatcher {
public:
    /// Each put and get may take this long.
    static constexpr std::chrono::seconds kStorageTimeout{60};

    /// Writes for `gateway`, with its checked settings (debtor account).
    explicit BankTransferBatcher(const BankTransferGateway& gateway) : settings_(gateway.settings()) {}

    struct Result {
        std::vector<BankTransferFile> written;   // files this run wrote
        std::vector<BankTransferFile> existing;  // files written before for the date (and currency)
    };

    /// Throws InputError for a bad date or currency (nothing written), WorkError or
    /// UnavailableError when the store refuses or cannot be reached (nothing recorded).
    Result write_files(const BankFileStore& files, const std::string& execution_date,
                       const std::optional<Currency>& currency = std::nullopt) const;

    /// The storage key of a file.
    static std::string storage_key(const std::string& execution_date, std::string_view currency,
                                   int sequence);

    /// YYYY-MM-DD and a real calendar date.
    static bool is_execution_date(std::string_view text);

private:
    BankTransferSettings settings_;
};

}  // namespace artistsaid::gateways
