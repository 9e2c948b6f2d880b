// A migrated throw-away database with the sandbox gateway, for the refund, credit note and
// plan change integration tests: invoices are made by the real InvoiceGenerator and paid by
// the real InvoiceCharger through the sandbox (whose sandbox_operations count every call).
#pragma once

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "engine/core/error.hpp"
#include "engine/store/database.hpp"
#include "gateways/gateway_registry.hpp"
#include "gateways/sandbox/sandbox_gateway.hpp"
#include "plugins/billing/invoice_generator.hpp"
#include "plugins/billing/ledger_verifier.hpp"
#include "plugins/payments/invoice_charger.hpp"
#include "plugins/payments/refund_issuer.hpp"
#include "tests/integration/billing/billing_fixture.hpp"

namespace artistsaid::test {

struct MoneyDatabase : BillingDatabase {
    MoneyDatabase() {
        gateways.add(std::make_unique<gateways::SandboxGateway>(db.url()));
        gateways.set_routing(gateways::GatewayRouting("sandbox"));
        const std::string url = db.url();
        context.connect = [url] { return store::connect(url); };
        context.database_url = [url] { return url; };
        context.gateways = [this]() -> const gateways::GatewayRegistry& { return gateways; };
    }

    nlohmann::json generate(const std::string& as_of, const std::string& key) {
        billing::InvoiceRunOptions o;
        o.as_of = billing::parse_date(as_of, "as_of");
        o.idempotency_key = key;
        return billing::InvoiceGenerator().generate(conn, o);
    }

    /// A client in `country` (taxed by a rate of `tax_ppm` there) with `card` as its default
    /// sandbox method, a monthly subscription of `price` due on `due`, billed and charged:
    /// returns the paid invoice's id.
    long long paid_invoice(const std::string& currency, long long price, long long tax_ppm,
                           const std::string& card = "4242424242424242",
                           const std::string& due = "2026-03-01") {
        ++countries_;  // one country (and tax rate) per client
        const std::string code = "X" + std::string(1, static_cast<char>('A' + countries_ % 26));
        if (tax_ppm > 0) tax_rate(code, "", tax_ppm);
        const long long c = client(code, "", currency);
        const long long s = service("svc" + std::to_string(countries_));
        subscription(c, s, currency, "monthly", 1, due, price);
        exec(
            "INSERT INTO payment_methods (client_id, gateway, gateway_reference, is_default) "
            "VALUES (" +
            std::to_string(c) + ", 'sandbox', '" + card + "', true)");
        generate(due, "gen:" + std::to_string(countries_));
        const long long invoice =
            scalar("SELECT id FROM invoices WHERE client_id = " + std::to_string(c));
        payments::ChargeOptions charge;
        charge.invoice_id = invoice;
        charge.idempotency_key = "charge:" + std::to_string(invoice);
        charge.deadline = std::chrono::system_clock::now() + std::chrono::seconds(30);
        auto out = payments::InvoiceCharger(context).charge(charge);
        REQUIRE(out["status"] == "succeeded");
        return invoice;
    }

    nlohmann::json refund(long long invoice, std::optional<long long> amount,
                          const std::string& key, const std::string& reason = "requested") {
        payments::RefundOptions o;
        o.invoice_id = invoice;
        o.amount = amount;
        o.reason = reason;
        o.idempotency_key = key;
        o.deadline = std::chrono::system_clock::now() + std::chrono::seconds(30);
        return payments::RefundIssuer(context).refund(o);
    }

    bool ledger_ok() {
        auto report = billing::LedgerVerifier().verify(conn);
        if (!report["ok"].get<bool>()) MESSAGE(report.dump(2));
        return report["ok"].get<bool>();
    }

    /// The balance of a platform account in a currency (sum of its entries).
    long long balance(const std::string& account, const std::string& currency) {
        return scalar(
            "SELECT coalesce(sum(e.amount), 0) FROM ledger_entries e JOIN "
            "ledger_accounts a ON a.id = e.account_id WHERE a.code = '" +
            account + "' AND e.currency = '" + currency + "'");
    }

    gateways::GatewayRegistry gateways;
    payments::PaymentsContext context;
    int countries_ = 0;
};

/// The message of the InputError `f` throws ("<no InputError>" if it throws none).
template <class F>
std::string input_error_of(F&& f) {
    try {
        f();
    } catch (const InputError& e) {
        return e.what();
    }
    return "<no InputError>";
}

inline bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace artistsaid::test
