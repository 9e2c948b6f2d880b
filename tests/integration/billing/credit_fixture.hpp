// MoneyDatabase plus what the credit refund and credit note void tests need: a client with
// several invoices, payments that overpay them (client credit that came from a gateway), and
// the credit refund issuer.
#pragma once

#include <chrono>
#include <string>

#include "plugins/billing/payment_recorder.hpp"
#include "plugins/payments/credit_refund_issuer.hpp"
#include "tests/integration/billing/money_fixture.hpp"

namespace artistsaid::test {

struct CreditDatabase : MoneyDatabase {
    /// A client in its own taxed country with a default sandbox card; returns its id.
    long long card_client(const std::string& currency,
                          const std::string& card = "4242424242424242") {
        ++countries_;
        const std::string code = "Y" + std::string(1, static_cast<char>('A' + countries_ % 26));
        tax_rate(code, "", 190000);
        const long long c = client(code, "", currency);
        exec(
            "INSERT INTO payment_methods (client_id, gateway, gateway_reference, is_default) "
            "VALUES (" +
            std::to_string(c) + ", 'sandbox', 'sbx_card_" + card + "_" + std::to_string(c) +
            "', true)");
        return c;
    }

    /// One more unpaid invoice of `client`: a one-off subscription of `price` due on `due`.
    long long unpaid_invoice(long long client_id, const std::string& currency, long long price,
                             const std::string& due) {
        ++countries_;
        const long long s = service("csvc" + std::to_string(countries_));
        subscription(client_id, s, currency, "one_off", 1, due, price);
        generate(due, "cgen:" + std::to_string(countries_));
        return scalar("SELECT max(id) FROM invoices WHERE client_id = " +
                      std::to_string(client_id));
    }

    long long due(long long invoice) {
        return scalar("SELECT total - credit_applied - amount_paid FROM invoices WHERE id = " +
                      std::to_string(invoice));
    }

    /// Charges `gateway` for the invoice's balance + `extra` (card 4242... at the sandbox, or
    /// `method` at another gateway) and records it: a payment that overpays by `extra`.
    long long overpay(long long invoice, long long extra, const std::string& gateway = "sandbox",
                      const std::string& method = "4242424242424242") {
        const std::string currency =
            text("SELECT currency FROM invoices WHERE id = " + std::to_string(invoice));
        gateways::ChargeRequest charge;
        charge.idempotency_key = "overpay:" + std::to_string(invoice);
        charge.deadline = std::chrono::system_clock::now() + std::chrono::seconds(30);
        charge.amount = Money(due(invoice) + extra, Currency::from_code(currency));
        charge.payment_method_reference = method;
        charge.description = "invoice " + std::to_string(invoice);
        auto result = gateways.get(gateway).charge(charge);
        REQUIRE(result.status == gateways::OperationStatus::kSucceeded);
        pqxx::work tx(conn);
        auto recorded = billing::PaymentRecorder::record_succeeded(
            tx, invoice, charge.amount.minor_units(), currency, gateway, result.provider_id,
            charge.idempotency_key);
        tx.commit();
        REQUIRE(recorded.overpaid == extra);
        return recorded.payment_id;
    }

    nlohmann::json refund_credit(long long client_id, const std::string& currency, long long amount,
                                 const std::string& key,
                                 const std::string& reason = "client asked") {
        payments::CreditRefundOptions o;
        o.client_id = client_id;
        o.currency = currency;
        o.amount = amount;
        o.reason = reason;
        o.idempotency_key = key;
        o.deadline = std::chrono::system_clock::now() + std::chrono::seconds(30);
        return payments::CreditRefundIssuer(context).refund(o);
    }

    long long credit_balance(long long client_id, const std::string& currency) {
        return scalar(
            "SELECT coalesce(sum(balance), 0) FROM client_credit_balances WHERE "
            "client_id = " +
            std::to_string(client_id) + " AND currency = '" + currency + "'");
    }

    long long sandbox_refunds() {
        return scalar("SELECT count(*) FROM sandbox_operations WHERE kind = 'refund'");
    }
};

}  // namespace artistsaid::test
