#include "gateways/bank/camt_statement_reader.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "engine/core/error.hpp"
#include "gateways/bank/xml_reader.hpp"
#include "tests/support/test_env.hpp"

using namespace artistsaid;
using namespace artistsaid::gateways;

namespace {

std::string fixture(const std::string& name) {
    std::ifstream in(test::source_dir() + "/tests/fixtures/bank/" + name);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

TEST_CASE("Gateways.Bank.Camt053.SampleStatementFlattensToTransactions") {
    auto txs = CamtStatementReader::read(fixture("camt053_sample.xml"));
    REQUIRE(txs.size() == 8);  // 7 entries, the batch entry has two transactions
    CHECK(txs[0].statement_id == "2026-11-28-001");
    CHECK(txs[0].account_iban == "DE02120300000000202051");
    CHECK(txs[0].credit);
    CHECK(txs[0].booked);
    CHECK(txs[0].amount == Money(11900, Currency::from_code("EUR")));
    CHECK(txs[0].remittance == "Invoice INV-2026-0001 & thanks");
    CHECK(txs[0].entry_reference == "BANKREF-0001");
    CHECK(txs[0].booking_date == "2026-11-27");
    CHECK(txs[1].remittance == "INV-2026-0002");
    CHECK(txs[1].end_to_end_id == "CLIENT-REF-77");
    CHECK_FALSE(txs[3].credit);
    CHECK(txs[3].amount == Money(12000, Currency::from_code("EUR")));
    CHECK(txs[3].end_to_end_id == "E2EB0BC458343FDCF0D3322DF05E36C45C1");
    CHECK(txs[3].entry_reference == "BANKREF-0004/1");
    CHECK(txs[4].amount == Money(18000, Currency::from_code("EUR")));
    CHECK(txs[5].amount == Money(4500, Currency::from_code("EUR")));  // entry amount
    CHECK_FALSE(txs[6].booked);
}

TEST_CASE("Gateways.Bank.Camt054.NotificationWithStatusCodeAndShortAmounts") {
    auto txs = CamtStatementReader::read(R"(<?xml version="1.0"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">
 <BkToCstmrDbtCdtNtfctn>
  <GrpHdr><MsgId>N1</MsgId><CreDtTm>2026-11-28T06:00:00</CreDtTm></GrpHdr>
  <Ntfctn>
   <Id>NTF-1</Id>
   <Acct><Id><IBAN>KW81CBKU0000000000001234560101</IBAN></Id></Acct>
   <Ntry>
    <NtryRef>R-9</NtryRef>
    <Amt Ccy="KWD">12.5</Amt>
    <CdtDbtInd>CRDT</CdtDbtInd>
    <Sts><Cd>BOOK</Cd></Sts>
    <BookgDt><DtTm>2026-11-28T09:30:00</DtTm></BookgDt>
    <NtryDtls><TxDtls><RmtInf><Ustrd><![CDATA[INV-9 <paid>]]></Ustrd></RmtInf></TxDtls></NtryDtls>
   </Ntry>
  </Ntfctn>
 </BkToCstmrDbtCdtNtfctn>
</Document>)");
    REQUIRE(txs.size() == 1);
    CHECK(txs[0].amount == Money(12500, Currency::from_code("KWD")));
    CHECK(txs[0].booked);
    CHECK(txs[0].booking_date == "2026-11-28");
    CHECK(txs[0].entry_reference == "R-9");
    CHECK(txs[0].remittance == "INV-9 <paid>");
}

TEST_CASE("Gateways.Bank.Camt.BadInputIsAClearError") {
    CHECK_THROWS_WITH_AS(CamtStatementReader::read("<Document><Other/></Document>"),
                         doctest::Contains("not a camt.053"), InputError);
    CHECK_THROWS_WITH_AS(
        CamtStatementReader::read("<Document><BkToCstmrStmt><Stmt><Id>S</Id><Ntry><Amt "
                                  "Ccy=\"JPY\">12.5</Amt><CdtDbtInd>CRDT</CdtDbtInd></Ntry>"
                                  "</Stmt></BkToCstmrStmt></Document>"),
        doctest::Contains("is not an amount of JPY"), InputError);
    CHECK_THROWS_WITH_AS(
        CamtStatementReader::read("<Document><BkToCstmrStmt><Stmt><Id>S</Id><Ntry><Amt "
                                  "Ccy=\"EUR\">1.00</Amt><CdtDbtInd>X</CdtDbtInd></Ntry>"
                                  "</Stmt></BkToCstmrStmt></Document>"),
        doctest::Contains("CRDT or DBIT"), InputError);
}

TEST_CASE("Gateways.Bank.XmlReader.RefusesMalformedAndHostileDocuments") {
    CHECK_THROWS_WITH_AS(XmlReader::parse("<a><b></a>"), doctest::Contains("</a> closes <b>"),
                         InputError);
    CHECK_THROWS_WITH_AS(XmlReader::parse("<a>\n  <b>&bogus;</b></a>"),
                         doctest::Contains("line 2"), InputError);
    CHECK_THROWS_WITH_AS(
        XmlReader::parse("<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>"),
        doctest::Contains("DOCTYPE"), InputError);
    CHECK_THROWS_AS(XmlReader::parse("<a>"), InputError);
    CHECK_THROWS_AS(XmlReader::parse("<a></a><b></b>"), InputError);
    CHECK_THROWS_AS(XmlReader::parse(""), InputError);
    CHECK_THROWS_WITH_AS(XmlReader::parse("<a>text</a>", 5), doctest::Contains("larger"),
                         InputError);
    std::string deep;
    for (int i = 0; i < 100; ++i) deep += "<a>";
    CHECK_THROWS_WITH_AS(XmlReader::parse(deep), doctest::Contains("nesting deeper"), InputError);
    auto ok = XmlReader::parse("<p:a x='1 &lt; 2'>&#233;&#x4E2D;<p:b/></p:a>");
    CHECK(ok.name == "a");
    CHECK(ok.attributes.at("x") == "1 < 2");
    CHECK(ok.text == "\xC3\xA9\xE4\xB8\xAD");
    CHECK(ok.child("b") != nullptr);
}
