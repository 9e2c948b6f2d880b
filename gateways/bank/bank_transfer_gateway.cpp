#include "gateways/bank/bank_transfer_gateway.hpp"

#include <pqxx/pqxx>

#include "engine/core/digest.hpp"
#include "engine/core/error.hpp"
#include "engine/store/database.hpp"
#include "gateways/bank/bank_transfer_batcher.hpp"
#include "gateways/bank/bic.hpp"
#include "gateways/bank/iban.hpp"
#include "gateways/bank/pain001_writer.hpp"

namespace artistsaid::gateways {
namespace {

constexpr std::size_t kMaxKey = 255;
constexpr std::size_t kMaxName = 140;

GatewayResult refused(std::string why) {
    GatewayResult r;
    r.status = OperationStatus::kFailed;
    r.retryable = false;
    r.error = std::move(why);
    return r;
}

GatewayResult result_of(const pqxx::row& row) {
    GatewayResult r;
    r.status = row["status"].as<std::string>() == "booked" ? OperationStatus::kSucceeded
                                                          : OperationStatus::kPending;
    r.provider_id = row["end_to_end_id"].as<std::string>();
    r.amount = Money(row["amount"].as<std::int64_t>(),
                     Currency::from_code(row["currency"].as<std::string>()));
    return r;
}

constexpr const char* kColumns = "idempotency_key, end_to_end_id, request_hash, amount, currency, status";

}  // namespace

BankTransferGateway::BankTransferGateway(BankTransferSettings settings)
    : settings_(std::move(settings)) {
    if (settings_.database_url.empty())
        throw InputError("gateways: bank_transfer records its transfers in PostgreSQL: set "
                         "ARTISTSAID_DATABASE_URL");
    if (settings_.debtor_name.empty())
        throw InputError("gateways: bank_transfer.debtor_name is required (the platform's account holder)");
    if (settings_.initiating_party.empty()) settings_.initiating_party = settings_.debtor_name;
    try {
        settings_.debtor_iban = Iban::parse(settings_.debtor_iban).electronic();
    } catch (const InputError& e) {
        throw InputError(std::string("gateways: bank_transfer.debtor_iban: ") + e.what());
    }
    if (!settings_.debtor_bic.empty()) {
        try {
            settings_.debtor_bic = Bic::parse(settings_.debtor_bic).code();
        } catch (const InputError& e) {
            throw InputError(std::string("gateways: bank_transfer.debtor_bic: ") + e.what());
        }
    }
}

CustomerRef BankTransferGateway::save_customer(const CustomerRequest&) {
    throw InputError("bank_transfer keeps no customers: customers pay by transfer with the "
                     "invoice number as reference");
}

PaymentMethodRef BankTransferGateway::save_payment_method(const PaymentMethodRequest&) {
    throw InputError("bank_transfer keeps no payment methods: payees' accounts are in "
                     "payee_bank_accounts");
}

GatewayResult BankTransferGateway::charge(const ChargeRequest&) {
    return refused("bank_transfer cannot pull money: the customer pays by transfer with the "
                   "invoice number as reference, and `payments import-statement --apply` "
                   "settles the invoice");
}

GatewayResult BankTransferGateway::refund(const RefundRequest&) {
    return refused("bank_transfer cannot refund a charge: refund by a payout to the "
                   "customer's IBAN");
}

GatewayResult BankTransferGateway::transfer(const TransferRequest& request) {
    // Everything is checked before anything is recorded.
    if (request.kind != OperationKind::kTransfer && request.kind != OperationKind::kPayout)
        throw InputError("bank_transfer: transfer() takes a transfer or a payout");
    if (request.idempotency_key.empty() || request.idempotency_key.size() > kMaxKey)
        throw InputError("bank_transfer: the idempotency key must have 1 to 255 characters");
    if (request.amount.minor_units() <= 0)
        throw InputError("bank_transfer: the amount must be positive, not " + request.amount.to_string());
    std::string iban;
    try {
        iban = Iban::parse(request.destination).electronic();
    } catch (const InputError& e) {
        throw InputError(std::string("bank_transfer: the payee's IBAN: ") + e.what());
    }
    std::string bic;
    if (auto it = request.metadata.find("bic"); it != request.metadata.end() && !it->second.empty()) {
        try {
            bic = Bic::parse(it->second).code();
        } catch (const InputError& e) {
            throw InputError(std::string("bank_transfer: the payee's BIC: ") + e.what());
        }
    }
    if (request.payee_name.empty() || request.payee_name.size() > kMaxName)
        throw InputError("bank_transfer: the account holder's name must have 1 to 140 characters");
    std::string not_before;
    if (auto it = request.metadata.find("execution_date"); it != request.metadata.end()) {
        if (!BankTransferBatcher::is_execution_date(it->second))
            throw InputError("bank_transfer: execution_date '" + it->second +
                             "' is not a date (YYYY-MM-DD)");
        not_before = it->second;
    }
    const std::string kind(to_string(request.kind));
    const std::string e2e = Pain001Writer::end_to_end_id(request.idempotency_key);
    // What moves money; the execution date is a scheduling hint and may differ on a retry.
    const std::string hash = sha256_hex(kind + "\n" + request.amount.to_string() + "\n" + iban + "\n" +
                                        bic + "\n" + request.payee_name + "\n" +
                                        request.description);
    try {
        auto conn = store::connect(settings_.database_url);
        pqxx::work tx(*conn);
        auto inserted = tx.exec_params(
            std::string("INSERT INTO bank_transfers (kind, idempotency_key, end_to_end_id, "
                        "request_hash, amount, currency, creditor_name, creditor_iban, creditor_bic, "
                        "remittance, not_before) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
                        "nullif($9, ''), $10, nullif($11, '')::date) "
                        "ON CONFLICT (idempotency_key) DO NOTHING RETURNING ") + kColumns,
            kind, request.idempotency_key, e2e, hash, request.amount.minor_units(),
            std::string(request.amount.currency().code()), request.payee_name, iban, bic,
            request.description, not_before);
        pqxx::row row = !inserted.empty()
                            ? inserted[0]
                            : tx.exec_params1(std::string("SELECT ") + kColumns +
                                                  " FROM bank_transfers WHERE idempotency_key = $1",
                                              request.idempotency_key);
        tx.commit();
        if (row["request_hash"].as<std::string>() != hash)
            return refused("bank_transfer: idempotency key '" + request.idempotency_key +
                           "' was used before with other parameters");
        return result_of(row);
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        store::throw_from_pqxx("recording a bank transfer");
    }
}

std::optional<GatewayResult> BankTransferGateway::lookup(const LookupRequest& request) {
    if (request.kind != OperationKind::kTransfer && request.kind != OperationKind::kPayout)
        return std::nullopt;  // nothing but money out goes through this gateway
    if (request.idempotency_key.empty() && request.provider_id.empty())
        throw InputError("bank_transfer: a lookup needs an idempotency key or an EndToEndId");
    try {
        auto conn = store::connect(settings_.database_url);
        pqxx::read_transaction tx(*conn);
        auto rows = tx.exec_params(
            std::string("SELECT ") + kColumns +
                " FROM bank_transfers WHERE kind = $1 AND ((idempotency_key = $2 AND $2 <> '') "
                "OR (end_to_end_id = $3 AND $3 <> ''))",
            std::string(to_string(request.kind)), request.idempotency_key, request.provider_id);
        if (rows.empty()) return std::nullopt;
        return result_of(rows[0]);
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        store::throw_from_pqxx("looking up a bank transfer");
    }
}

}  // namespace artistsaid::gateways
