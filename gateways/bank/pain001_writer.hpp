// Pain001Writer: ISO 20022 pain.001.001.03 customer credit transfer initiation files, the
// bank file of a batch payout.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/money.hpp"

namespace artistsaid::gateways {

/// One payment to a payee (an artist, an affiliate).
struct CreditTransfer {
    std::string idempotency_key;  // the payout's key: EndToEndId and InstrId derive from it
    Money amount{0, Currency::from_code("EUR")};
    std::string creditor_name;
    std::string creditor_iban;
    std::string creditor_bic;     // optional (SEPA: IBAN-only is allowed)
    std::string remittance;       // unstructured remittance information, up to 140 characters
};

/// A batch of transfers from one of the platform's accounts, in one currency.
struct CreditTransferBatch {
    std::string idempotency_key;  // the batch's key: MsgId and PmtInfId derive from it
    std::chrono::system_clock::time_point created_at;
    std::string execution_date;   // requested execution date, YYYY-MM-DD
    std::string initiating_party; // the platform's name
    std::string debtor_name;
    std::string debtor_iban;
    std::string debtor_bic;       // optional
    std::vector<CreditTransfer> transfers;
};

/// Writes a pain.001.001.03 document: one GrpHdr, one PmtInf (batch booking) with a
/// CdtTrfTxInf per transfer. Checks everything first and writes nothing on a bad batch:
/// IBANs (mod 97) and BICs, one currency, amounts > 0, unique keys, names present, the date.
/// NbOfTxs and CtrlSum (group and payment information) are the count and the exact sum,
/// written with the currency's exponent ("12.30" EUR, "1200" JPY, "1.250" KWD). EUR batches
/// are SEPA (SvcLvl SEPA, ChrgBr SLEV); others ChrgBr SHAR. Names are cut to 70 characters and
/// remittance to 140 (whole UTF-8 characters); all text is XML-escaped.
///
/// Thread-safety: stateless.
class Pain001Writer {
public:
    static constexpr std::string_view kNamespace = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03";

    /// "E2E" + the first 32 hex digits (upper case) of SHA-256(key): 35 characters, the
    /// EndToEndId limit, and the same for the same key, so a statement entry leads back to it.
    static std::string end_to_end_id(std::string_view idempotency_key);

    /// Throws InputError naming the first problem (and the transfer's index).
    std::string write(const CreditTransferBatch& batch) const;
};

}  // namespace artistsaid::gateways
