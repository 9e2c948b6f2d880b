#include "gateways/bank/bank_payout_collector.hpp"

#include <pqxx/pqxx>

#include "engine/core/error.hpp"
#include "engine/store/database.hpp"
#include "gateways/bank/bic.hpp"
#include "gateways/bank/iban.hpp"

namespace artistsaid::gateways {
namespace {

struct DuePayout {
    long long id = 0;
    std::string key;
    Money amount{0, Currency::from_code("EUR")};
    std::string holder;
    std::string iban;
    std::string bic;
};

}  // namespace

int BankPayoutCollector::collect(PaymentGateway& gateway, const std::string& execution_date,
                                 const std::optional<Currency>& currency) const {
    const std::string only = currency ? std::string(currency->code()) : std::string();
    std::vector<DuePayout> due;
    std::string problems;
    try {
        auto conn = store::connect(database_url_);
        pqxx::read_transaction tx(*conn);
        auto rows = tx.exec_params(
            "SELECT p.id, p.idempotency_key, p.amount, p.currency, a.id IS NOT NULL AS has_account, "
            "coalesce(a.account_holder, '') AS holder, coalesce(a.iban, '') AS iban, "
            "coalesce(a.bic, '') AS bic FROM payouts p LEFT JOIN payee_bank_accounts a ON "
            "a.disabled_at IS NULL AND ("
            "(p.payee_client_id IS NOT NULL AND a.payee_client_id = p.payee_client_id) OR "
            "(p.payee_affiliate_id IS NOT NULL AND a.payee_affiliate_id = p.payee_affiliate_id)) "
            "WHERE p.method = 'bank' AND p.status = 'pending' AND ($1 = '' OR p.currency = $1) "
            "ORDER BY p.id",
            only);
        for (const auto& r : rows) {
            DuePayout p;
            p.id = r["id"].as<long long>();
            p.key = r["idempotency_key"].as<std::string>();
            p.amount = Money(r["amount"].as<std::int64_t>(),
                             Currency::from_code(r["currency"].as<std::string>()));
            auto fail = [&](const std::string& why) {
                problems += "\n  payout " + std::to_string(p.id) + ": " + why;
            };
            if (!r["has_account"].as<bool>()) {
                fail("the payee has no active bank account (payments payees add)");
                continue;
            }
            p.holder = r["holder"].as<std::string>();
            try {
                p.iban = Iban::parse(r["iban"].as<std::string>()).electronic();
            } catch (const InputError& e) {
                fail(std::string("IBAN: ") + e.what());
                continue;
            }
            if (!r["bic"].as<std::string>().empty()) {
                try {
                    p.bic = Bic::parse(r["bic"].as<std::string>()).code();
                } catch (const InputError& e) {
                    fail(std::string("BIC: ") + e.what());
                    continue;
                }
            }
            due.push_back(std::move(p));
        }
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        store::throw_from_pqxx("reading due bank payouts");
    }
    if (!problems.empty())
        throw InputError("bank payouts refused, nothing was filed:" + problems);

    int handed = 0;
    for (const auto& p : due) {
        TransferRequest request;
        request.kind = OperationKind::kPayout;
        request.idempotency_key = p.key;
        request.deadline = std::chrono::system_clock::now() + std::chrono::seconds(30);
        request.amount = p.amount;
        request.destination = p.iban;
        request.payee_name = p.holder;
        request.description = "ArtistsAid payout " + std::to_string(p.id);
        if (!p.bic.empty()) request.metadata["bic"] = p.bic;
        request.metadata["execution_date"] = execution_date;
        auto result = gateway.transfer(request);
        if (result.status != OperationStatus::kPending && result.status != OperationStatus::kSucceeded)
            throw WorkError("payout " + std::to_string(p.id) + ": " + result.error);
        try {
            auto conn = store::connect(database_url_);
            pqxx::work tx(*conn);
            tx.exec_params0("UPDATE payouts SET status = 'processing', gateway_reference = $2, "
                            "updated_at = now() WHERE id = $1 AND status = 'pending'",
                            p.id, result.provider_id);
            tx.commit();
        } catch (const Error&) {
            throw;
        } catch (const std::exception&) {
            store::throw_from_pqxx("recording a bank payout as processing");
        }
        ++handed;
    }
    return handed;
}

}  // namespace artistsaid::gateways
