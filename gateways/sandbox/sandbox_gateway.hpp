// SandboxGateway: a deterministic payment gateway for the demo and the tests.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "engine/store/connection_pool.hpp"
#include "gateways/payment_gateway.hpp"

namespace artistsaid::gateways {

/// A gateway with no provider behind it: test card numbers decide each outcome, and every
/// operation is recorded in PostgreSQL (table sandbox_operations) so tests can count them.
///
/// Test payment methods (the token of save_payment_method, or directly the charge's
/// payment_method_reference):
///   4242424242424242, 5555555555554444   succeeded
///   4000000000000002                     declined, card_declined
///   4000000000009995                     declined, insufficient_funds
///   4000000000000069                     declined, expired_card
///   4000000000000127                     declined, incorrect_cvc
///   4000000000000119                     failed, processing_error, retryable
///   4000002500003155                     requires_action (3-D Secure; off-session: a failure)
///   4000000000000077                     pending; lookup() finds it succeeded
///   4000000000000341                     charged, but the answer is lost: unknown; lookup()
///                                        finds it succeeded (the Janitor's case)
///   4000000000000259                     timeout before anything happened: unknown; lookup()
///                                        finds nothing (a new attempt is safe)
/// Any other number or token is declined with `invalid_number`.
/// Seeded references: `sbx_card_<number>_<anything>` stands for that test card without a
/// save_payment_method call (bulk seeds give every client its own unique reference this
/// way); a saved `sbx_pm_…` reference stands for the card it was saved with.
/// Refunds (of a succeeded charge, never more than is left of it) succeed, except:
///   reason "sandbox_answer_lost"         refunded, but the answer is lost: unknown; lookup()
///                                        finds it succeeded
/// Money out (transfer/payout): destination "acct_sandbox_fail" or an IBAN starting "XX" is
/// failed (not retryable); "acct_sandbox_timeout" is performed with its answer lost (unknown);
/// anything else succeeds (payouts: pending until looked up).
///
/// Thread-safety: every call uses its own connection (charge_batch reuses idle ones of a
/// small pool); concurrent calls with one key are serialised by the table's unique
/// constraint.
///
/// Guarantee: one row per (kind, idempotency key); a repeated key returns the first row's
/// outcome (a key reused with other parameters is refused as failed, not retryable).
class SandboxGateway final : public PaymentGateway {
public:
    explicit SandboxGateway(std::string database_url);

    std::string_view name() const override { return "sandbox"; }
    CustomerRef save_customer(const CustomerRequest& request) override;
    PaymentMethodRef save_payment_method(const PaymentMethodRequest& request) override;
    GatewayResult charge(const ChargeRequest& request) override;
    /// The batch in one transaction: one INSERT … SELECT … RETURNING for every new operation,
    /// then one read of the keys it did not insert (seen before, or never reached); each
    /// request answers exactly as charge() would for it.
    std::vector<GatewayResult> charge_batch(const std::vector<ChargeRequest>& requests,
                                            int max_parallel) override;
    GatewayResult refund(const RefundRequest& request) override;
    GatewayResult transfer(const TransferRequest& request) override;
    std::optional<GatewayResult> lookup(const LookupRequest& request) override;

private:
    std::string database_url_;
    /// charge_batch's connections, kept for the next batch (a batch is one short transaction;
    /// a new backend per batch cost more than the batch's statements at 100k charges).
    std::unique_ptr<store::ConnectionPool> batch_connections_;
};

}  // namespace artistsaid::gateways
