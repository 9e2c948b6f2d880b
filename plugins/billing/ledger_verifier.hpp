// LedgerVerifier: checks that the books are consistent, for `artistsaid ledger verify`.
//
// Checks (each a set-based query, examples limited to 10 per check):
//   transactions_balance     every ledger transaction sums to zero in each currency
//   transactions_have_entries every ledger transaction has entries
//   paid_invoices_settled    every paid invoice: succeeded payments + credit applied
//                            - overpayment moved to credit == its total
//   amount_paid_matches      every invoice's amount_paid == its succeeded payments
//   payments_posted_once     no payment is posted to the ledger by more than one
//                            transaction of the same kind (no payment counted twice)
//   invoice_items_add_up     subtotal / tax / credit_applied == the sums of the items
//   billing_runs_posted      each billing run's invoice.issued transactions receive exactly
//                            the totals of the invoices it created, per currency
//                            (as issued: late fees are posted by their own transactions)
//   refunds_posted_once      every succeeded invoice refund: one refund.succeeded transaction and a
//                            credit note of its amount; other refunds: none
//   credit_notes_balance     every credit note: one credit_note.issued transaction debiting
//                            revenue by its subtotal and tax payable by its tax
//   refunded_within_paid     refunds of a payment <= its amount - overpayment; its credit
//                            refunds <= its overpayment; credit notes of an invoice <= its total
//   credit_refunds_posted    every credit refund: credit reserved once; succeeded: posted once;
//                            failed: credit given back once; in flight: neither
//   credit_balances_match    client_credit_balances == the sum of the client's credits rows
//   credit_notes_voided      every void credit note: one credit_note.voided reversing its
//                            revenue and tax (and its credit, for one to the client's balance)
//   payments_linked          every succeeded payment is linked to one payment.succeeded
//                            posting (payments.ledger_transaction_id); no other payment is
//   payment_postings_match   each payment posting's entries equal its linked payments per
//                            currency: gateway_clearing = Σ amount, receivable = -Σ (amount -
//                            overpaid), client_credit = -Σ overpaid (its overpayment credits);
//                            a 'payment:<id>' posting posts that payment alone; none is empty
//   overpayments_in_their_posting every overpayment credit is posted by its payment's posting
//
// Thread-safety: stateless. Reads in one REPEATABLE READ snapshot.
#pragma once

#include <nlohmann/json.hpp>
#include <pqxx/connection>

namespace artistsaid::billing {

class LedgerVerifier {
public:
    /// {"ok": bool, "checks": [{"name", "description", "failures", "examples": [...]}]}
    nlohmann::json verify(pqxx::connection& conn) const;
};

}  // namespace artistsaid::billing
