// CamtStatementReader: the booked transactions of a camt.053 statement or camt.054
// notification, flattened to one record per transaction.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/core/money.hpp"

namespace artistsaid::gateways {

/// One transaction of a statement entry. A batch-booked entry (our pain.001 with BtchBookg)
/// has one per TxDtls; an entry without TxDtls gives one with the entry's data.
struct StatementTransaction {
    std::string statement_id;    // Stmt/Id or Ntfctn/Id
    std::string account_iban;    // Acct/Id/IBAN
    std::string entry_reference; // AcctSvcrRef, else NtryRef, else "<statement>#<n>"
    Money amount{0, Currency::from_code("EUR")};
    bool credit = false;         // CdtDbtInd CRDT (money in) or DBIT (money out)
    bool booked = false;         // Sts BOOK (camt.053.001.02: text; .08+: Sts/Cd)
    bool reversal = false;       // RvslInd true
    std::string booking_date;    // BookgDt/Dt (or the date of BookgDt/DtTm)
    std::string end_to_end_id;   // Refs/EndToEndId, "" or "NOTPROVIDED" when missing
    std::string remittance;      // Ustrd lines and Strd/CdtrRefInf/Ref, joined with spaces
};

/// Reads BkToCstmrStmt (camt.053) and BkToCstmrDbtCdtNtfctn (camt.054), any version whose
/// element names match (.001.02 to .001.08 do for what is read here). Throws InputError with
/// line:column for malformed XML, another message type, or an entry without a valid amount.
/// Thread-safety: stateless.
class CamtStatementReader {
public:
    static std::vector<StatementTransaction> read(std::string_view xml);
};

}  // namespace artistsaid::gateways
