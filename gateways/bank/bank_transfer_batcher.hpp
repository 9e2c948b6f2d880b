// BankTransferBatcher: writes the bank gateway's pending transfers into pain.001 files.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/money.hpp"
#include "gateways/bank/bank_transfer_gateway.hpp"

namespace artistsaid::gateways {

/// One pain.001 file (a row of bank_transfer_files).
struct BankTransferFile {
    std::string execution_date;
    int sequence = 1;
    std::filesystem::path path;
    int count = 0;
    Money control_sum{0, Currency::from_code("EUR")};
    bool written = false;  // written by this run (false: it was written before)
};

/// For an execution date (and optionally one currency), collects every transfer in
/// bank_transfers that no file carries yet and may be executed by then (its metadata
/// execution_date, if any, is on or before the date), and writes ONE pain.001.001.03 file
/// per currency (Pain001Writer: one PmtInf with batch booking, NbOfTxs and CtrlSum exact,
/// EndToEndId from each transfer's idempotency key) into the settings' output directory:
///   pain001-<YYYY-MM-DD>-<CCY>-<sequence>.xml
/// The file and its bank_transfer_files row appear together: the files are built first (a
/// bad batch writes nothing), written atomically (BankFileWriter), then recorded in the
/// transaction that assigns the transfers to them; if that transaction fails, the files
/// this run created are removed. A file's content depends only on its transfers (CreDtTm
/// is the latest transfer's creation time), so a run interrupted after writing and before
/// committing writes the identical file again. Running again with nothing new writes
/// nothing: transfers are filed once. Transfers arriving after a date's file was written go
/// into that date's next sequence number. Concurrent runs are serialised by an advisory lock.
///
/// Thread-safety: stateless apart from its settings; each call opens its own connection.
class BankTransferBatcher {
public:
    /// Writes for `gateway`, with its checked settings (debtor account, output directory).
    explicit BankTransferBatcher(const BankTransferGateway& gateway) : settings_(gateway.settings()) {}

    struct Result {
        std::vector<BankTransferFile> written;   // files this run wrote
        std::vector<BankTransferFile> existing;  // files written before for the date (and currency)
    };

    /// Throws InputError for a bad date or currency (nothing written).
    Result write_files(const std::string& execution_date,
                       const std::optional<Currency>& currency = std::nullopt) const;

    /// YYYY-MM-DD and a real calendar date.
    static bool is_execution_date(std::string_view text);

private:
    BankTransferSettings settings_;
};

}  // namespace artistsaid::gateways
