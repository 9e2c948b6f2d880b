// BankTransferGateway: money out by SEPA/ISO 20022 credit transfer, behind PaymentGateway.
#pragma once

#include <filesystem>
#include <string>

#include "gateways/payment_gateway.hpp"

namespace artistsaid::gateways {

/// The platform's side of its bank transfers (config section `bank_transfer:`).
struct BankTransferSettings {
    std::string database_url;
    std::filesystem::path output_dir;  // optional: a local copy of each pain.001 file (the
                                       // files themselves go to the storage backend)
    std::string initiating_party;      // GrpHdr/InitgPty/Nm
    std::string debtor_name;           // the platform's account holder
    std::string debtor_iban;           // the platform's account, money is paid from
    std::string debtor_bic;            // optional
};

/// A gateway whose transfers are files, not API calls: transfer() checks the payee's IBAN
/// (mod 97), BIC (metadata "bic", optional) and name, and records the request in
/// bank_transfers (migration 0008) as `pending`; BankTransferBatcher later writes every
/// pending transfer of a currency into one pain.001 file per execution date, which the
/// operator uploads to the bank; the transfer is `succeeded` once a camt.053/054 statement
/// books its EndToEndId (`payments import-statement --apply`).
///
/// TransferRequest: kind kTransfer or kPayout; destination the payee's IBAN (printed or
/// electronic form); payee_name the account holder; description the remittance information
/// (up to 140 characters); metadata "bic" and "execution_date" (YYYY-MM-DD, the earliest
/// date the transfer may be filed for). GatewayResult::provider_id is the EndToEndId,
/// Pain001Writer::end_to_end_id(idempotency key).
///
/// Money in is not pulled: customers pay invoices by transfer with the invoice number as
/// reference and the statement import settles them. charge() and refund() therefore answer
/// failed (not retryable), and save_customer()/save_payment_method() throw InputError.
///
/// Guarantee: one bank_transfers row per idempotency key; the same key again returns its
/// state and files nothing twice; the key with other parameters is refused (failed).
/// Thread-safety: every call opens its own connection; safe from many threads.
class BankTransferGateway final : public PaymentGateway {
public:
    /// Throws InputError for a bad debtor IBAN/BIC or missing names.
    explicit BankTransferGateway(BankTransferSettings settings);

    std::string_view name() const override { return "bank_transfer"; }
    CustomerRef save_customer(const CustomerRequest& request) override;
    PaymentMethodRef save_payment_method(const PaymentMethodRequest& request) override;
    GatewayResult charge(const ChargeRequest& request) override;
    GatewayResult refund(const RefundRequest& request) override;
    /// InputError (nothing recorded) for a bad IBAN, BIC, name, amount, key or date.
    GatewayResult transfer(const TransferRequest& request) override;
    std::optional<GatewayResult> lookup(const LookupRequest& request) override;

    const BankTransferSettings& settings() const noexcept { return settings_; }

private:
    BankTransferSettings settings_;
};

}  // namespace artistsaid::gateways
