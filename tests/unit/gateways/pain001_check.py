#!/usr/bin/python3
"""Checks a pain.001.001.03 file independently of the C++ code that wrote it.

Usage: pain001_check.py FILE --xsd XSD --count N --sum S --exponent E [--keys K1,K2,...]

- well-formed XML, valid against the schema (lxml, Debian's python3-lxml);
- NbOfTxs of GrpHdr and PmtInf equal the number of CdtTrfTxInf and --count;
- CtrlSum of both equals the exact decimal sum of the InstdAmt values and --sum;
- every amount has exactly --exponent decimals and every Ccy is the same;
- every IBAN passes ISO 7064 mod 97-10;
- EndToEndIds are unique and, with --keys, are 'E2E' + SHA-256(key)[:32] in upper case,
  in order.
Exit 0 when all hold; otherwise prints each failure and exits 1.
"""
import argparse
import hashlib
import sys
from decimal import Decimal

from lxml import etree

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}


def iban_ok(iban):
    moved = iban[4:] + iban[:4]
    digits = "".join(str(int(c, 36)) for c in moved)
    return int(digits) % 97 == 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--xsd", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--sum", required=True)
    ap.add_argument("--exponent", type=int, required=True)
    ap.add_argument("--keys", default="")
    args = ap.parse_args()
    failures = []

    doc = etree.parse(args.file)  # raises on malformed XML
    schema = etree.XMLSchema(etree.parse(args.xsd))
    if not schema.validate(doc):
        failures.extend(str(e) for e in schema.error_log)

    txs = doc.findall(".//p:CdtTrfTxInf", NS)
    if len(txs) != args.count:
        failures.append(f"{len(txs)} CdtTrfTxInf, expected {args.count}")
    amounts = doc.findall(".//p:CdtTrfTxInf/p:Amt/p:InstdAmt", NS)
    total = sum((Decimal(a.text) for a in amounts), Decimal(0))
    for where in ("p:GrpHdr", "p:PmtInf"):
        nb = doc.findtext(f"p:CstmrCdtTrfInitn/{where}/p:NbOfTxs", namespaces=NS)
        cs = doc.findtext(f"p:CstmrCdtTrfInitn/{where}/p:CtrlSum", namespaces=NS)
        if nb != str(len(txs)):
            failures.append(f"{where} NbOfTxs {nb} but {len(txs)} transactions")
        if cs is None or Decimal(cs) != total:
            failures.append(f"{where} CtrlSum {cs} but the amounts sum to {total}")
        if cs != args.sum:
            failures.append(f"{where} CtrlSum {cs}, expected {args.sum}")
    currencies = {a.get("Ccy") for a in amounts}
    if len(currencies) != 1:
        failures.append(f"currencies {sorted(currencies)}")
    for a in amounts:
        decimals = len(a.text.split(".")[1]) if "." in a.text else 0
        if decimals != args.exponent:
            failures.append(f"amount {a.text} has {decimals} decimals, expected {args.exponent}")
    for iban in doc.findall(".//p:IBAN", NS):
        if not iban_ok(iban.text):
            failures.append(f"IBAN {iban.text} fails mod 97")
    ids = [e.text for e in doc.findall(".//p:PmtId/p:EndToEndId", NS)]
    if len(set(ids)) != len(ids):
        failures.append("EndToEndIds are not unique")
    if args.keys:
        expected = ["E2E" + hashlib.sha256(k.encode()).hexdigest()[:32].upper()
                    for k in args.keys.split(",")]
        if ids != expected:
            failures.append(f"EndToEndIds {ids}, expected {expected}")

    for f in failures:
        print("pain001_check:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
