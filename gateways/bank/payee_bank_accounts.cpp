#include "gateways/bank/payee_bank_accounts.hpp"

#include <pqxx/pqxx>

#include "engine/core/error.hpp"
#include "engine/store/database.hpp"
#include "gateways/bank/bic.hpp"
#include "gateways/bank/iban.hpp"

namespace artistsaid::gateways {
namespace {

constexpr std::size_t kMaxHolder = 140;  // pain.001 Nm

constexpr const char* kSelect =
    "SELECT a.id, a.payee_kind, coalesce(a.payee_client_id, a.payee_affiliate_id) AS payee_id, "
    "coalesce(c.name, f.name, '') AS payee_name, a.account_holder, a.iban, "
    "coalesce(a.bic, '') AS bic, "
    "to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS created_at, "
    "coalesce(to_char(a.disabled_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '') "
    "AS disabled_at FROM payee_bank_accounts a LEFT JOIN clients c ON c.id = a.payee_client_id "
    "LEFT JOIN affiliates f ON f.id = a.payee_affiliate_id ";

PayeeBankAccount account_of(const pqxx::row& r) {
    PayeeBankAccount a;
    a.id = r["id"].as<long long>();
    a.payee_kind = r["payee_kind"].as<std::string>();
    a.payee_id = r["payee_id"].as<long long>();
    a.payee_name = r["payee_name"].as<std::string>();
    a.holder = r["account_holder"].as<std::string>();
    a.iban = r["iban"].as<std::string>();
    a.bic = r["bic"].as<std::string>();
    a.created_at = r["created_at"].as<std::string>();
    a.disabled_at = r["disabled_at"].as<std::string>();
    return a;
}

// 1–140 characters of well-formed UTF-8 without control characters, not only blanks.
void check_holder(const std::string& holder) {
    std::size_t chars = 0, i = 0;
    bool visible = false;
    while (i < holder.size()) {
        auto lead = static_cast<unsigned char>(holder[i]);
        std::size_t length = lead < 0x80 ? 1 : (lead >> 5) == 6 ? 2 : (lead >> 4) == 14 ? 3
                           : (lead >> 3) == 30 ? 4 : 0;
        if (length == 0 || i + length > holder.size())
            throw InputError("the account holder's name is not valid UTF-8");
        for (std::size_t k = 1; k < length; ++k)
            if ((static_cast<unsigned char>(holder[i + k]) >> 6) != 2)
                throw InputError("the account holder's name is not valid UTF-8");
        if (length == 1 && (lead < 0x20 || lead == 0x7f))
            throw InputError("the account holder's name may not contain control characters");
        if (!(length == 1 && lead == ' ')) visible = true;
        i += length;
        ++chars;
    }
    if (!visible || chars > kMaxHolder)
        throw InputError("the account holder's name must have 1 to 140 characters");
}

}  // namespace

std::string PayeeBankAccounts::masked(std::string_view iban) {
    if (iban.size() <= 4) return std::string(iban.size(), '*');
    return std::string(iban.size() - 4, '*') + std::string(iban.substr(iban.size() - 4));
}

PayeeBankAccount PayeeBankAccounts::add(const NewPayeeBankAccount& account) const {
    if (account.payee_kind != "provider" && account.payee_kind != "affiliate")
        throw InputError("the payee kind must be provider or affiliate");
    if (account.payee_id < 1) throw InputError("the payee id must be a positive number");
    check_holder(account.holder);
    // Iban/Bic errors say what is wrong without repeating the number.
    const std::string iban = Iban::parse(account.iban).electronic();
    // BICs are written in capitals; accept an operator's lower case like the IBAN's.
    std::string bic_text = account.bic;
    for (auto& c : bic_text)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    const std::string bic = bic_text.empty() ? std::string() : Bic::parse(bic_text).code();
    const bool provider = account.payee_kind == "provider";
    const std::string payee = (provider ? "client " : "affiliate ") + std::to_string(account.payee_id);
    try {
        auto conn = store::connect(database_url_);
        pqxx::work tx(*conn);
        auto exists = tx.exec_params(provider ? "SELECT 1 FROM clients WHERE id = $1"
                                              : "SELECT 1 FROM affiliates WHERE id = $1",
                                     account.payee_id);
        if (exists.empty()) throw InputError("there is no " + payee);
        auto active = tx.exec_params(
            std::string("SELECT id, iban FROM payee_bank_accounts WHERE disabled_at IS NULL AND ") +
                (provider ? "payee_client_id" : "payee_affiliate_id") + " = $1",
            account.payee_id);
        auto duplicate = [&](long long id, const std::string& existing) {
            return InputError(payee + " already has an active bank account (" + std::to_string(id) +
                              ", IBAN " + masked(existing) + (existing == iban ? ", the same one" : "") +
                              "): disable it first (payments payees disable " + std::to_string(id) + ")");
        };
        if (!active.empty())
            throw duplicate(active[0][0].as<long long>(), active[0][1].as<std::string>());
        pqxx::result inserted;
        try {
            pqxx::subtransaction insert(tx);
            inserted = insert.exec_params(
                "INSERT INTO payee_bank_accounts (payee_kind, payee_client_id, payee_affiliate_id, "
                "account_holder, iban, bic) VALUES ($1, CASE WHEN $1 = 'provider' THEN $2::bigint "
                "END, CASE WHEN $1 = 'affiliate' THEN $2::bigint END, $3, $4, nullif($5, '')) "
                "RETURNING id",
                account.payee_kind, account.payee_id, account.holder, iban, bic);
            insert.commit();
        } catch (const pqxx::unique_violation&) {
            // A concurrent add won between the check and the insert.
            throw InputError(payee + " already has an active bank account: disable it first");
        }
        auto id = inserted[0][0].as<long long>();
        auto row = tx.exec_params1(std::string(kSelect) + "WHERE a.id = $1", id);
        auto added = account_of(row);
        tx.commit();
        return added;
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        store::throw_from_pqxx("adding a payee bank account");
    }
}

std::vector<PayeeBankAccount> PayeeBankAccounts::list(bool include_disabled) const {
    std::vector<PayeeBankAccount> out;
    try {
        auto conn = store::connect(database_url_);
        pqxx::read_transaction tx(*conn);
        auto rows = tx.exec(std::string(kSelect) +
                            (include_disabled ? "" : "WHERE a.disabled_at IS NULL ") + "ORDER BY a.id");
        for (const auto& r : rows) out.push_back(account_of(r));
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        store::throw_from_pqxx("listing payee bank accounts");
    }
    return out;
}

std::optional<PayeeBankAccount> PayeeBankAccounts::find(long long id) const {
    try {
        auto conn = store::connect(database_url_);
        pqxx::read_transaction tx(*conn);
        auto rows = tx.exec_params(std::string(kSelect) + "WHERE a.id = $1", id);
        if (rows.empty()) return std::nullopt;
        return account_of(rows[0]);
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        store::throw_from_pqxx("reading a payee bank account");
    }
}

bool PayeeBankAccounts::disable(long long id) const {
    try {
        auto conn = store::connect(database_url_);
        pqxx::work tx(*conn);
        auto rows = tx.exec_params(
            "SELECT disabled_at IS NOT NULL FROM payee_bank_accounts WHERE id = $1 FOR UPDATE", id);
        if (rows.empty()) throw InputError("there is no payee bank account " + std::to_string(id));
        if (rows[0][0].as<bool>()) return false;
        tx.exec_params0("UPDATE payee_bank_accounts SET disabled_at = now(), updated_at = now() "
                        "WHERE id = $1",
                        id);
        tx.commit();
        return true;
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        store::throw_from_pqxx("disabling a payee bank account");
    }
}

}  // namespace artistsaid::gateways
