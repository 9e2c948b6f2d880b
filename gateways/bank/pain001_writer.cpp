#include "gateways/bank/pain001_writer.hpp"

#include <ctime>
#include <set>

#include "engine/core/digest.hpp"
#include "engine/core/error.hpp"
#include "gateways/bank/bic.hpp"
#include "gateways/bank/iban.hpp"
#include "gateways/bank/xml_writer.hpp"

namespace artistsaid::gateways {
namespace {

std::string hashed_id(std::string_view prefix, std::string_view key) {
    std::string hex = sha256_hex(key).substr(0, 32);
    for (char& c : hex) {
        if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
    }
    return std::string(prefix) + hex;
}

// `text` cut to `limit` characters without splitting a UTF-8 sequence; control characters
// become spaces. Throws InputError for malformed UTF-8.
std::string clip(std::string_view text, std::size_t limit, const std::string& what) {
    std::string out;
    std::size_t chars = 0, i = 0;
    while (i < text.size() && chars < limit) {
        auto lead = static_cast<unsigned char>(text[i]);
        std::size_t length = lead < 0x80 ? 1 : (lead >> 5) == 6 ? 2 : (lead >> 4) == 14 ? 3
                           : (lead >> 3) == 30 ? 4 : 0;
        if (length == 0 || i + length > text.size()) throw InputError(what + " is not valid UTF-8");
        for (std::size_t k = 1; k < length; ++k) {
            if ((static_cast<unsigned char>(text[i + k]) >> 6) != 2) {
                throw InputError(what + " is not valid UTF-8");
            }
        }
        if (length == 1 && lead < 0x20) {
            out.push_back(' ');
        } else {
            out.append(text.substr(i, length));
        }
        i += length;
        ++chars;
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

bool is_date(std::string_view text) {
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
    for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
        if (text[i] < '0' || text[i] > '9') return false;
    }
    int month = (text[5] - '0') * 10 + (text[6] - '0');
    int day = (text[8] - '0') * 10 + (text[9] - '0');
    return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

std::string iso_date_time(std::chrono::system_clock::time_point at) {
    std::time_t t = std::chrono::system_clock::to_time_t(at);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &tm);
    return buffer;
}

void financial_institution(XmlWriter& xml, std::string_view agent, const std::string& bic) {
    xml.open(agent);
    xml.open("FinInstnId");
    if (bic.empty()) {
        xml.open("Othr");
        xml.leaf("Id", "NOTPROVIDED");
        xml.close();
    } else {
        xml.leaf("BIC", bic);
    }
    xml.close();
    xml.close();
}

}  // namespace

std::string Pain001Writer::end_to_end_id(std::string_view idempotency_key) {
    return hashed_id("E2E", idempotency_key);
}

std::string Pain001Writer::write(const CreditTransferBatch& batch) const {
    if (batch.idempotency_key.empty()) throw InputError("pain.001: the batch needs an idempotency key");
    if (batch.transfers.empty()) throw InputError("pain.001: the batch has no transfers");
    if (!is_date(batch.execution_date)) {
        throw InputError("pain.001: execution date '" + batch.execution_date + "' is not YYYY-MM-DD");
    }
    std::string initiating = clip(batch.initiating_party, 70, "the initiating party");
    std::string debtor = clip(batch.debtor_name, 70, "the debtor name");
    if (initiating.empty() || debtor.empty()) {
        throw InputError("pain.001: the initiating party and the debtor need names");
    }
    Iban debtor_iban = Iban::parse(batch.debtor_iban);
    std::string debtor_bic = batch.debtor_bic.empty() ? "" : Bic::parse(batch.debtor_bic).code();

    const Currency currency = batch.transfers.front().amount.currency();
    Money total = Money::zero(currency);
    std::set<std::string> ids;
    struct Checked {
        const CreditTransfer* transfer;
        std::string end_to_end, name, iban, bic, remittance;
    };
    std::vector<Checked> checked;
    for (std::size_t i = 0; i < batch.transfers.size(); ++i) {
        const auto& t = batch.transfers[i];
        std::string where = "pain.001: transfer " + std::to_string(i + 1) + ": ";
        if (t.amount.currency() != currency) {
            throw InputError(where + "currency " + std::string(t.amount.currency().code()) +
                             " differs from the batch's " + std::string(currency.code()));
        }
        if (t.amount.minor_units() <= 0) throw InputError(where + "the amount must be positive");
        if (t.idempotency_key.empty()) throw InputError(where + "no idempotency key");
        Checked c{&t, end_to_end_id(t.idempotency_key), clip(t.creditor_name, 70, where + "name"),
                  "", "", clip(t.remittance, 140, where + "remittance")};
        if (c.name.empty()) throw InputError(where + "the creditor needs a name");
        try {
            c.iban = Iban::parse(t.creditor_iban).electronic();
            if (!t.creditor_bic.empty()) c.bic = Bic::parse(t.creditor_bic).code();
        } catch (const InputError& e) {
            throw InputError(where + e.what());
        }
        if (!ids.insert(c.end_to_end).second) {
            throw InputError(where + "idempotency key '" + t.idempotency_key + "' appears twice");
        }
        total += t.amount;  // checked: overflow throws
        checked.push_back(std::move(c));
    }
    const std::string count = std::to_string(checked.size());
    const std::string control_sum = total.format_amount();
    const bool sepa = currency.code() == "EUR";

    XmlWriter xml;
    xml.open("Document", {{"xmlns", std::string(kNamespace)},
                          {"xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"}});
    xml.open("CstmrCdtTrfInitn");
    xml.open("GrpHdr");
    xml.leaf("MsgId", hashed_id("MSG", batch.idempotency_key));
    xml.leaf("CreDtTm", iso_date_time(batch.created_at));
    xml.leaf("NbOfTxs", count);
    xml.leaf("CtrlSum", control_sum);
    xml.open("InitgPty");
    xml.leaf("Nm", initiating);
    xml.close();
    xml.close();  // GrpHdr

    xml.open("PmtInf");
    xml.leaf("PmtInfId", hashed_id("PMT", batch.idempotency_key));
    xml.leaf("PmtMtd", "TRF");
    xml.leaf("BtchBookg", "true");
    xml.leaf("NbOfTxs", count);
    xml.leaf("CtrlSum", control_sum);
    if (sepa) {
        xml.open("PmtTpInf");
        xml.open("SvcLvl");
        xml.leaf("Cd", "SEPA");
        xml.close();
        xml.close();
    }
    xml.leaf("ReqdExctnDt", batch.execution_date);
    xml.open("Dbtr");
    xml.leaf("Nm", debtor);
    xml.close();
    xml.open("DbtrAcct");
    xml.open("Id");
    xml.leaf("IBAN", debtor_iban.electronic());
    xml.close();
    xml.leaf("Ccy", currency.code());
    xml.close();
    financial_institution(xml, "DbtrAgt", debtor_bic);
    xml.leaf("ChrgBr", sepa ? "SLEV" : "SHAR");
    for (const auto& c : checked) {
        xml.open("CdtTrfTxInf");
        xml.open("PmtId");
        xml.leaf("InstrId", c.end_to_end);
        xml.leaf("EndToEndId", c.end_to_end);
        xml.close();
        xml.open("Amt");
        xml.leaf("InstdAmt", c.transfer->amount.format_amount(),
                 {{"Ccy", std::string(currency.code())}});
        xml.close();
        if (!c.bic.empty()) financial_institution(xml, "CdtrAgt", c.bic);
        xml.open("Cdtr");
        xml.leaf("Nm", c.name);
        xml.close();
        xml.open("CdtrAcct");
        xml.open("Id");
        xml.leaf("IBAN", c.iban);
        xml.close();
        xml.close();
        if (!c.remittance.empty()) {
            xml.open("RmtInf");
            xml.leaf("Ustrd", c.remittance);
            xml.close();
        }
        xml.close();  // CdtTrfTxInf
    }
    xml.close();  // PmtInf
    xml.close();  // CstmrCdtTrfInitn
    xml.close();  // Document
    return xml.finish();
}

}  // namespace artistsaid::gateways
