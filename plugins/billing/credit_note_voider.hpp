// CreditNoteVoider: voids a credit note issued in error, inside the caller's transaction.
//
// Only a credit note that moved no money out can be voided:
//   kind client_credit  its credit must still be on the client's balance (the balance in its
//                       currency covers its total; credit is fungible, so "unused" means the
//                       client still holds at least that much): a `credits` row (kind
//                       credit_note, -total) takes it back;
//   kind invoice        its invoice must still be open (unpaid): a reversing 'credit_applied'
//                       item (+total) and credit_applied -= total give the balance back;
//   kind refund         never: the money went back through a gateway (InputError).
// Append-only: the note keeps its row and number (numbers stay gap-free), gets status `void`,
// voided_at and void_reason, and one reversing ledger transaction 'credit_note.voided',
// reference 'credit_note_void:<id>': revenue -subtotal / tax_payable -tax / client_credit or
// receivable +total. Voiding a void note changes nothing (already_void: true).
//
// Thread-safety: stateless; the invoice, the note and (client credit) the balance row are
// locked FOR UPDATE, in that order (the order CreditNoteIssuer and the payment paths use).
#pragma once

#include <nlohmann/json.hpp>
#include <pqxx/connection>
#include <pqxx/transaction_base>
#include <string>

namespace artistsaid::billing {

class CreditNoteVoider {
public:
    /// {credit_note_id, number, kind, invoice_id, currency, subtotal, tax, total, status,
    ///  voided_at, void_reason, invoice_status, credit_balance, already_void, message}.
    /// InputError (nothing written) for an unknown number, a refund's note, a client credit
    /// note whose credit was used, or an invoice note whose invoice is no longer open.
    static nlohmann::json void_note(pqxx::transaction_base& tx, const std::string& number,
                                    const std::string& reason);

    /// void_note() in a transaction of its own (the CLI, the step).
    static nlohmann::json void_now(pqxx::connection& conn, const std::string& number,
                                   const std::string& reason);
};

}  // namespace artistsaid::billing
