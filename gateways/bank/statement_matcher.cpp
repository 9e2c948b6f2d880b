#include "gateways/bank/statement_matcher.hpp"

#include <pqxx/pqxx>

#include "engine/core/error.hpp"
#include "engine/store/database.hpp"

namespace artistsaid::gateways {
namespace {

// The SQL twin of Pain001Writer::end_to_end_id.
constexpr const char* kEndToEndSql =
    "'E2E' || upper(left(encode(sha256(convert_to(idempotency_key, 'UTF8')), 'hex'), 32))";

bool is_word_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

std::string upper(std::string text) {
    for (char& c : text) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    return text;
}

// `word` appears in `text` with no letter or digit right before or after it.
bool contains_word(const std::string& text, const std::string& word) {
    std::string t = upper(text), w = upper(word);
    for (auto at = t.find(w); at != std::string::npos; at = t.find(w, at + 1)) {
        bool before = at == 0 || !is_word_char(t[at - 1]);
        bool after = at + w.size() == t.size() || !is_word_char(t[at + w.size()]);
        if (before && after) return true;
    }
    return false;
}

}  // namespace

StatementMatcher::StatementMatcher(std::string database_url) : database_url_(std::move(database_url)) {}

StatementMatchReport StatementMatcher::match(
    const std::vector<StatementTransaction>& transactions) const {
    StatementMatchReport report;
    auto conn = store::connect(database_url_);
    try {
        pqxx::read_transaction tx(*conn);
        for (const auto& t : transactions) {
            if (!t.booked) {
                ++report.not_booked;
                continue;
            }
            auto unmatched = [&](std::string reason) {
                report.unmatched.push_back({t, std::move(reason)});
            };
            if (t.reversal) {
                unmatched("a reversal entry");
                continue;
            }
            if (!t.credit) {
                if (t.end_to_end_id.empty() || t.end_to_end_id == "NOTPROVIDED") {
                    unmatched("money out without an EndToEndId");
                    continue;
                }
                auto rows = tx.exec_params(
                    std::string("SELECT id, amount, currency, idempotency_key, status FROM payouts "
                                "WHERE method = 'bank' AND ") + kEndToEndSql + " = $1",
                    t.end_to_end_id);
                if (rows.empty()) {
                    // A transfer of the bank gateway that no payouts row stands for.
                    auto transfers = tx.exec_params(
                        "SELECT id, amount, currency, idempotency_key, status FROM bank_transfers "
                        "WHERE end_to_end_id = $1",
                        t.end_to_end_id);
                    if (transfers.empty()) {
                        unmatched("no bank payout has EndToEndId " + t.end_to_end_id);
                        continue;
                    }
                    const auto& bt = transfers[0];
                    Money booked_for(bt["amount"].as<std::int64_t>(),
                                     Currency::from_code(bt["currency"].as<std::string>()));
                    if (booked_for != t.amount) {
                        unmatched("bank transfer " + bt["id"].as<std::string>() + " is " +
                                  booked_for.to_string() + ", the bank booked " + t.amount.to_string());
                        continue;
                    }
                    report.matched.push_back({t, "bank_transfer", bt["id"].as<long long>(),
                                              bt["idempotency_key"].as<std::string>(),
                                              bt["status"].as<std::string>() == "booked"});
                    continue;
                }
                Money expected(rows[0]["amount"].as<std::int64_t>(),
                               Currency::from_code(rows[0]["currency"].as<std::string>()));
                if (expected != t.amount) {
                    unmatched("payout " + rows[0]["id"].as<std::string>() + " is " +
                              expected.to_string() + ", the bank booked " + t.amount.to_string());
                    continue;
                }
                auto status = rows[0]["status"].as<std::string>();
                if (status == "failed" || status == "cancelled") {
                    unmatched("payout " + rows[0]["id"].as<std::string>() + " is " + status);
                    continue;
                }
                report.matched.push_back({t, "payout", rows[0]["id"].as<long long>(),
                                          rows[0]["idempotency_key"].as<std::string>(),
                                          status == "paid"});
                continue;
            }
            std::string haystack = t.remittance + " " + t.end_to_end_id;
            auto rows = tx.exec_params(
                "SELECT id, number, currency, total - amount_paid - credit_applied AS open, "
                "status FROM invoices WHERE number IS NOT NULL AND status IN ('unpaid', 'paid') "
                "AND position(upper(number) in upper($1)) > 0",
                haystack);
            std::vector<pqxx::row> named;
            for (const auto& row : rows) {
                if (contains_word(haystack, row["number"].as<std::string>())) named.push_back(row);
            }
            if (named.empty()) {
                unmatched("no invoice number in the remittance information");
                continue;
            }
            if (named.size() > 1) {
                std::string numbers;
                for (const auto& row : named) {
                    numbers += (numbers.empty() ? "" : ", ") + row["number"].as<std::string>();
                }
                unmatched("names several invoices (" + numbers + ")");
                continue;
            }
            const auto& invoice = named.front();
            std::string number = invoice["number"].as<std::string>();
            auto currency = Currency::from_code(invoice["currency"].as<std::string>());
            if (currency != t.amount.currency()) {
                unmatched("invoice " + number + " is in " + std::string(currency.code()) +
                          ", the bank booked " + std::string(t.amount.currency().code()));
                continue;
            }
            bool paid = invoice["status"].as<std::string>() == "paid";
            Money open(invoice["open"].as<std::int64_t>(), currency);
            if (!paid && open != t.amount) {
                unmatched("invoice " + number + " has " + open.to_string() +
                          " open, the bank booked " + t.amount.to_string());
                continue;
            }
            report.matched.push_back({t, "invoice", invoice["id"].as<long long>(), number, paid});
        }
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        store::throw_from_pqxx("matching a bank statement");
    }
    return report;
}

int StatementMatcher::mark_payouts_paid(const StatementMatchReport& report) const {
    auto conn = store::connect(database_url_);
    int changed = 0;
    try {
        pqxx::work tx(*conn);
        for (const auto& m : report.matched) {
            if (m.kind == "payout" || m.kind == "bank_transfer") {
                // The bank gateway's own record: its lookup() now answers succeeded.
                auto booked = tx.exec_params(
                    "UPDATE bank_transfers SET status = 'booked', booked_at = now(), "
                    "entry_reference = $2 WHERE end_to_end_id = $1 AND status = 'pending' "
                    "RETURNING id",
                    m.transaction.end_to_end_id, m.transaction.entry_reference);
                if (m.kind == "bank_transfer") changed += static_cast<int>(booked.size());
            }
            if (m.kind != "payout" || m.already_settled) continue;
            auto rows = tx.exec_params(
                "UPDATE payouts SET status = 'paid', paid_at = now(), updated_at = now(), "
                "gateway_reference = coalesce(gateway_reference, $2) WHERE id = $1 AND status "
                "IN ('pending', 'processing', 'unknown') RETURNING id",
                m.id, m.transaction.entry_reference);
            changed += static_cast<int>(rows.size());
        }
        tx.commit();
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        store::throw_from_pqxx("recording bank payouts as paid");
    }
    return changed;
}

}  // namespace artistsaid::gateways
