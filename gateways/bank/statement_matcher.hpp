// StatementMatcher: matches booked bank statement transactions to open invoices (money in)
// and bank payouts (money out), and says why the others did not match.
#pragma once

#include <string>
#include <vector>

#include "gateways/bank/camt_statement_reader.hpp"

namespace artistsaid::gateways {

struct StatementMatch {
    StatementTransaction transaction;
    std::string kind;             // "invoice", "payout" or "bank_transfer"
    long long id = 0;             // invoices.id, payouts.id or bank_transfers.id
    std::string reference;        // the invoice number or the payout's idempotency key
    bool already_settled = false; // the invoice is paid / the payout is paid already
};

struct StatementMismatch {
    StatementTransaction transaction;
    std::string reason;
};

struct StatementMatchReport {
    std::vector<StatementMatch> matched;
    std::vector<StatementMismatch> unmatched;
    int not_booked = 0;  // pending or information-only entries, ignored
};

/// Rules, for booked transactions only:
///   DBIT: the payout (method bank) whose EndToEndId — Pain001Writer::end_to_end_id of its
///         idempotency key — is the transaction's, with the same amount and currency; else
///         the bank gateway's transfer (bank_transfers) with that EndToEndId and amount.
///   CRDT: the one unpaid invoice whose number appears, as a whole word, in the remittance
///         information or the EndToEndId, with exactly its open amount (total - paid - credit)
///         in its currency. Partial payments, overpayments, two invoices named, reversals:
///         unmatched, with the reason, for a person to look at.
/// match() only reads; mark_payouts_paid() records the matched payouts as paid.
///
/// Thread-safety: one instance per thread (it opens a connection per call).
class StatementMatcher {
public:
    explicit StatementMatcher(std::string database_url);

    StatementMatchReport match(const std::vector<StatementTransaction>& transactions) const;

    /// Sets the matched, not yet settled payouts to paid and their bank_transfers rows (and
    /// matched bank transfers without a payout) to booked, in one transaction; what is paid
    /// or booked already is left alone. Returns how many payouts and transfers changed.
    int mark_payouts_paid(const StatementMatchReport& report) const;

private:
    std::string database_url_;
};

}  // namespace artistsaid::gateways
