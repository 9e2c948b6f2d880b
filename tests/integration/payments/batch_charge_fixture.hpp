// MoneyDatabase plus unpaid invoices to charge and the batch charger, for the batch charge
// path's integration tests (batch_charge_itest.cpp).
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "gateways/reconcile/payment_reconciler.hpp"
#include "plugins/payments/batch_invoice_charger.hpp"
#include "plugins/payments/reconciled_payment_settler.hpp"
#include "tests/integration/billing/money_fixture.hpp"

namespace artistsaid::test {

struct BatchChargeDatabase : MoneyDatabase {
    /// A client with `card` as its default sandbox method and one unpaid invoice of a monthly
    /// subscription of `price` (taxed `tax_ppm` in the client's own country), due on `due`.
    long long unpaid_invoice(const std::string& currency, long long price, long long tax_ppm,
                             const std::string& card, const std::string& due = "2026-03-01") {
        ++countries_;
        // Its own country (and tax rate): "QA", "QB", ... "ZZ".
        const std::string code{static_cast<char>('Q' + (countries_ / 26) % 10),
                               static_cast<char>('A' + countries_ % 26)};
        if (tax_ppm > 0) tax_rate(code, "", tax_ppm);
        const long long c = client(code, "", currency);
        const long long s = service("bsvc" + std::to_string(countries_));
        subscription(c, s, currency, "monthly", 1, due, price);
        exec("INSERT INTO payment_methods (client_id, gateway, gateway_reference, is_default) "
             "VALUES (" + std::to_string(c) + ", 'sandbox', 'sbx_card_" + card + "_" +
             std::to_string(c) + "', true)");
        generate(due, "gen:" + std::to_string(countries_));
        return scalar("SELECT id FROM invoices WHERE client_id = " + std::to_string(c));
    }

    std::vector<nlohmann::json> charge_batch(const std::vector<long long>& invoices,
                                             const std::string& key_prefix,
                                             const std::string& day = "") {
        std::vector<payments::BatchChargeItem> items;
        for (auto id : invoices) items.push_back({id, key_prefix + std::to_string(id), day});
        payments::BatchChargeOptions o;
        o.deadline = std::chrono::system_clock::now() + std::chrono::seconds(60);
        return payments::BatchInvoiceCharger(context).charge(items, o);
    }

    nlohmann::json charge_one(long long invoice, const std::string& key, const std::string& day = "") {
        payments::ChargeOptions o;
        o.invoice_id = invoice;
        o.idempotency_key = key;
        o.collection_day = day;
        o.deadline = std::chrono::system_clock::now() + std::chrono::seconds(60);
        return payments::InvoiceCharger(context).charge(o);
    }

    /// One pass of the Janitor over every open payment, whatever its age.
    gateways::ReconcileReport reconcile() {
        gateways::PaymentReconciler reconciler(db.url(), gateways,
                                               gateways::ReconcileOptions{std::chrono::seconds(0)});
        payments::ReconciledPaymentSettler::attach(reconciler);
        return reconciler.run_once();
    }

    /// Charge calls the sandbox recorded for an invoice (its metadata is not stored, so by the
    /// invoice's payments' keys): the number of times money could have moved.
    long long sandbox_charges(long long invoice) {
        return scalar("SELECT count(*) FROM sandbox_operations o JOIN payments p ON "
                      "p.idempotency_key = o.idempotency_key WHERE o.kind = 'charge' AND "
                      "p.invoice_id = " + std::to_string(invoice));
    }

    /// What the charging left, per invoice, comparable between two databases seeded alike.
    std::string outcome_table() {
        return text(
            "SELECT coalesce(string_agg(format('%s:%s:%s:%s:%s:%s:%s', i.id, i.status, "
            "i.amount_paid, coalesce(p.status, '-'), coalesce(p.amount, 0), "
            "coalesce(p.decline_code, '-'), coalesce(o.status, '-')), ' ' ORDER BY i.id), '') "
            "FROM invoices i LEFT JOIN payments p ON p.invoice_id = i.id "
            "LEFT JOIN sandbox_operations o ON o.kind = 'charge' AND o.idempotency_key = "
            "p.idempotency_key");
    }

    /// Ledger balances per account and currency.
    std::string ledger_table() {
        return text(
            "SELECT coalesce(string_agg(format('%s:%s:%s', code, currency, total), ' ' "
            "ORDER BY code, currency), '') FROM (SELECT a.code, e.currency, sum(e.amount) AS total "
            "FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id "
            "GROUP BY a.code, e.currency) s");
    }
};

}  // namespace artistsaid::test
