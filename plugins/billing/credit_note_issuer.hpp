// CreditNoteIssuer: issues a credit note against an invoice inside the caller's transaction,
// with its gap-free number, its share of the invoice's tax (CreditNoteSplit) and one balanced
// ledger transaction 'credit_note.issued' referenced 'credit_note:<id>':
//   revenue +subtotal / tax_payable +tax / <settled account> -total
// where the settled account is what the note settles (CreditNoteTarget):
//   kRefund        receivable: money goes back through the gateway (RefundRecorder posts the
//                  money side, 'refund.succeeded': receivable +amount / gateway_clearing -amount)
//   kClientCredit  client_credit: the amount joins the client's credit balance (a `credits`
//                  row, kind credit_note), used by the next invoices; no money moves
//   kInvoice       receivable: the invoice's open balance shrinks (credit_applied, a
//                  credit_applied item; paid once covered); no money moves
//
// Never more than invoiced: the credit notes of an invoice plus its refunds still in flight
// never exceed its total (the invoice row is locked while checking). Once: a credit note's
// idempotency key is UNIQUE; issuing the same key again returns the first note (duplicate).
//
// Thread-safety: stateless; the invoice row is locked (FOR UPDATE) while issuing.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <pqxx/connection>
#include <pqxx/transaction_base>
#include <string>

namespace artistsaid::billing {

enum class CreditNoteTarget { kRefund, kClientCredit, kInvoice };

struct CreditNoteRequest {
    std::int64_t invoice_id = 0;
    std::int64_t amount = 0;  // tax included, minor units of the invoice's currency
    std::string reason;
    CreditNoteTarget target = CreditNoteTarget::kClientCredit;
    std::string idempotency_key;
};

struct IssuedCreditNote {
    std::int64_t id = 0;
    std::string number;
    std::string currency;
    std::int64_t subtotal = 0;
    std::int64_t tax = 0;
    std::int64_t total = 0;
    std::string status;  // refunded (kRefund) or applied
    std::string invoice_status;
    bool duplicate = false;  // the key had issued this note before
};

class CreditNoteIssuer {
public:
    /// InputError (nothing written) for an unknown or unissued invoice, an amount <= 0, more
    /// than is left to credit, kInvoice on an invoice that is not unpaid or for more than its
    /// balance due, or a key used for another invoice.
    static IssuedCreditNote issue(pqxx::transaction_base& tx, const CreditNoteRequest& request);

    /// issue() in a transaction of its own (the step billing.credit_note, the CLI).
    static IssuedCreditNote issue_now(pqxx::connection& conn, const CreditNoteRequest& request);

    /// {credit_note_id, number, invoice_id, currency, subtotal, tax, total, status,
    ///  invoice_status, replayed}
    static nlohmann::json to_json(const IssuedCreditNote& note, std::int64_t invoice_id);

    /// What is left to credit on a locked invoice: total - credit notes - refunds in flight.
    static std::int64_t creditable(pqxx::transaction_base& tx, std::int64_t invoice_id);
};

}  // namespace artistsaid::billing
