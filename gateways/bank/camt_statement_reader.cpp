#include "gateways/bank/camt_statement_reader.hpp"

#include "engine/core/error.hpp"
#include "gateways/bank/xml_reader.hpp"

namespace artistsaid::gateways {
namespace {

std::string trimmed(const std::string& text) {
    auto begin = text.find_first_not_of(" \t\r\n");
    if (begin == std::string::npos) return "";
    auto end = text.find_last_not_of(" \t\r\n");
    return text.substr(begin, end - begin + 1);
}

Money amount_of(const XmlElement& amt, const std::string& where) {
    auto ccy = amt.attributes.find("Ccy");
    if (ccy == amt.attributes.end()) throw InputError("camt: " + where + ": Amt has no Ccy");
    auto currency = Currency::find(ccy->second);
    if (!currency) throw InputError("camt: " + where + ": unknown currency '" + ccy->second + "'");
    std::string text = trimmed(amt.text);
    // Banks may write fewer decimals than the currency has ("12.5"); pad, never round.
    auto dot = text.find('.');
    if (dot != std::string::npos) {
        while (text.size() - dot - 1 < static_cast<std::size_t>(currency->exponent())) text += '0';
        // Trailing zeros beyond the exponent carry no value ("1200.00" JPY).
        while (text.size() - dot - 1 > static_cast<std::size_t>(currency->exponent()) &&
               text.back() == '0') {
            text.pop_back();
        }
        if (text.back() == '.') text.pop_back();
    }
    try {
        Money money = Money::parse(text, *currency);
        if (money.is_negative()) throw InputError("negative");
        return money;
    } catch (const InputError&) {
        throw InputError("camt: " + where + ": '" + amt.text + "' is not an amount of " +
                         ccy->second);
    }
}

std::string remittance_of(const XmlElement& node) {
    std::string out;
    auto add = [&](const std::string& part) {
        if (part.empty()) return;
        if (!out.empty()) out += ' ';
        out += part;
    };
    const XmlElement* rmt = node.child("RmtInf");
    if (rmt == nullptr) return out;
    for (const auto* ustrd : rmt->all("Ustrd")) add(trimmed(ustrd->text));
    for (const auto* strd : rmt->all("Strd")) add(strd->text_at("CdtrRefInf/Ref"));
    return out;
}

bool is_booked(const XmlElement& entry) {
    const XmlElement* sts = entry.child("Sts");
    if (sts == nullptr) return false;
    std::string code = sts->child("Cd") ? sts->text_at("Cd") : sts->text_at("");
    return code == "BOOK";
}

}  // namespace

std::vector<StatementTransaction> CamtStatementReader::read(std::string_view xml) {
    XmlElement document = XmlReader::parse(xml);
    if (document.name != "Document") throw InputError("camt: the root element is not Document");
    const XmlElement* message = document.child("BkToCstmrStmt");
    std::string_view report_name = "Stmt";
    if (message == nullptr) {
        message = document.child("BkToCstmrDbtCdtNtfctn");
        report_name = "Ntfctn";
    }
    if (message == nullptr) {
        throw InputError("camt: not a camt.053 statement or camt.054 notification");
    }
    std::vector<StatementTransaction> result;
    for (const auto* report : message->all(report_name)) {
        std::string statement_id = report->text_at("Id");
        std::string iban = report->text_at("Acct/Id/IBAN");
        int entry_number = 0;
        for (const auto* entry : report->all("Ntry")) {
            ++entry_number;
            std::string where = "statement " + statement_id + " entry " + std::to_string(entry_number);
            const XmlElement* amt = entry->child("Amt");
            if (amt == nullptr) throw InputError("camt: " + where + " has no Amt");
            StatementTransaction base;
            base.statement_id = statement_id;
            base.account_iban = iban;
            base.amount = amount_of(*amt, where);
            std::string indicator = entry->text_at("CdtDbtInd");
            if (indicator != "CRDT" && indicator != "DBIT") {
                throw InputError("camt: " + where + ": CdtDbtInd must be CRDT or DBIT");
            }
            base.credit = indicator == "CRDT";
            base.booked = is_booked(*entry);
            base.reversal = entry->text_at("RvslInd") == "true";
            base.booking_date = entry->text_at("BookgDt/Dt");
            if (base.booking_date.empty()) base.booking_date = entry->text_at("BookgDt/DtTm").substr(0, 10);
            base.entry_reference = entry->text_at("AcctSvcrRef");
            if (base.entry_reference.empty()) base.entry_reference = entry->text_at("NtryRef");
            if (base.entry_reference.empty()) {
                base.entry_reference = statement_id + "#" + std::to_string(entry_number);
            }
            std::vector<const XmlElement*> details;
            for (const auto* group : entry->all("NtryDtls")) {
                for (const auto* tx : group->all("TxDtls")) details.push_back(tx);
            }
            if (details.empty()) {
                base.remittance = remittance_of(*entry);
                result.push_back(base);
                continue;
            }
            int tx_number = 0;
            for (const auto* tx : details) {
                ++tx_number;
                StatementTransaction t = base;
                if (details.size() > 1) t.entry_reference += "/" + std::to_string(tx_number);
                t.end_to_end_id = tx->text_at("Refs/EndToEndId");
                t.remittance = remittance_of(*tx);
                const XmlElement* tx_amount = tx->find("AmtDtls/TxAmt/Amt");
                if (tx_amount == nullptr) tx_amount = tx->child("Amt");
                if (tx_amount != nullptr) {
                    t.amount = amount_of(*tx_amount, where + " transaction " + std::to_string(tx_number));
                } else if (details.size() > 1) {
                    throw InputError("camt: " + where + " transaction " +
                                     std::to_string(tx_number) + " has no amount");
                }
                std::string tx_indicator = tx->text_at("CdtDbtInd");
                if (tx_indicator == "CRDT" || tx_indicator == "DBIT") t.credit = tx_indicator == "CRDT";
                result.push_back(std::move(t));
            }
        }
    }
    return result;
}

}  // namespace artistsaid::gateways
