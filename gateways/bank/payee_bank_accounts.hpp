// PayeeBankAccounts: the bank accounts payees (artists as provider clients, affiliates) are
// paid to by bank transfer — the payee_bank_accounts table (migrations 0008, 0012).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace artistsaid::gateways {

struct PayeeBankAccount {
    long long id = 0;
    std::string payee_kind;   // "provider" (a client) or "affiliate"
    long long payee_id = 0;   // the client's or the affiliate's id
    std::string payee_name;   // the client's or affiliate's name, for listings
    std::string holder;       // the account holder, as the bank knows them
    std::string iban;         // electronic form; personal data: show masked()
    std::string bic;          // "" when none
    std::string created_at;   // ISO 8601
    std::string disabled_at;  // "" while active
};

struct NewPayeeBankAccount {
    std::string payee_kind;  // "provider" or "affiliate"
    long long payee_id = 0;
    std::string holder;
    std::string iban;        // printed ("DE89 3704 ...") or electronic form
    std::string bic;         // optional
};

/// Adds, lists and disables payee bank accounts. add() checks the IBAN (country length and
/// mod-97, gateways/bank/iban.hpp), the BIC (bic.hpp; lower case accepted) and the holder's
/// name (1–140 characters of UTF-8, no control characters: what a pain.001 Nm carries)
/// before writing, and refuses a second ACTIVE account for a payee (the partial unique
/// index decides, so two concurrent adds cannot both win). An account is never deleted: disable() sets
/// disabled_at, the bank payouts collector skips it, and the transfers already filed keep
/// their own copy of the account. Errors never contain a full IBAN.
/// Thread-safety: every call opens its own connection; safe from many threads.
class PayeeBankAccounts {
public:
    explicit PayeeBankAccounts(std::string database_url) : database_url_(std::move(database_url)) {}

    /// InputError (nothing written) for a bad kind, payee, holder, IBAN or BIC, an unknown
    /// payee, or a payee that already has an active account.
    PayeeBankAccount add(const NewPayeeBankAccount& account) const;
    /// Active accounts, or all when `include_disabled`, by id.
    std::vector<PayeeBankAccount> list(bool include_disabled) const;
    std::optional<PayeeBankAccount> find(long long id) const;
    /// Disables the account; returns false if it already was. InputError if there is none.
    bool disable(long long id) const;

    /// "******************3000": every character but the last four masked.
    static std::string masked(std::string_view iban);

private:
    std::string database_url_;
};

}  // namespace artistsaid::gateways
