// BankPayoutCollector: hands the due bank payouts (payouts rows) to the bank gateway.
#pragma once

#include <optional>
#include <string>

#include "engine/core/money.hpp"
#include "gateways/payment_gateway.hpp"

namespace artistsaid::gateways {

/// Every payout with method 'bank' and status 'pending' (optionally of one currency) is
/// sent to `gateway.transfer()` as a kPayout under the payout's idempotency key, to the
/// payee's account in payee_bank_accounts (IBAN, BIC, account holder), with the execution
/// date as the earliest date; the payout becomes 'processing' with the EndToEndId as its
/// gateway_reference (a statement booking it makes it 'paid').
///
/// All or nothing for bad data: every due payout's account is checked first (present, IBAN
/// mod 97, BIC, holder's name), and if any fails an InputError lists each failing payout and
/// nothing is sent. Running again is safe: a payout handed over before is 'processing' and
/// not collected again, and one whose status update was lost is replayed by its key.
/// Thread-safety: stateless; each call opens its own connection.
class BankPayoutCollector {
public:
    explicit BankPayoutCollector(std::string database_url) : database_url_(std::move(database_url)) {}

    /// Returns how many payouts were handed over.
    int collect(PaymentGateway& gateway, const std::string& execution_date,
                const std::optional<Currency>& currency = std::nullopt) const;

private:
    std::string database_url_;
};

}  // namespace artistsaid::gateways
