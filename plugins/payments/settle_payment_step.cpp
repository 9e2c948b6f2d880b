#include "plugins/payments/settle_payment_step.hpp"

#include <pqxx/pqxx>

#include "engine/core/error.hpp"
#include "gateways/reconcile/payment_reconciler.hpp"
#include "plugins/billing/step_inputs.hpp"
#include "plugins/payments/reconciled_payment_settler.hpp"

namespace artistsaid::payments {

using workflow::ValueType;

const workflow::StepTypeDescriptor& SettlePaymentStep::descriptor() const {
    static const workflow::StepTypeDescriptor d{
        "payments.settle",
        "Settle the invoice of a payment a provider's event names: an unknown or pending "
        "payment is resolved by asking the gateway (never by trusting the event), once.",
        {{"gateway", ValueType::kString, true, "the provider that sent the event",
          {"stripe", "paypal", "sandbox", "bank"}},
         {"provider_id", ValueType::kString, false,
          "the provider's payment id (pi_..., capture id)", {}},
         {"idempotency_key", ValueType::kString, false,
          "our key, when the event carries it in its metadata", {}}},
        {{"matched", ValueType::kBoolean, false, "a payment of ours was found", {}},
         {"payment_id", ValueType::kAny, false, "the payments row (null if not matched)", {}},
         {"invoice_id", ValueType::kAny, false, "its invoice", {}},
         {"client_id", ValueType::kAny, false, "the invoice's client", {}},
         {"status", ValueType::kString, false, "the payment's status after settling", {}},
         {"invoice_paid", ValueType::kBoolean, false, "the invoice is paid", {}},
         {"reconciled", ValueType::kBoolean, false, "the gateway was asked by this step", {}}}};
    return d;
}

runtime::StepResult SettlePaymentStep::run(const runtime::StepCall& call) {
    billing::StepInputs in("payments.settle", call.with);
    const std::string gateway = in.text("gateway", "");
    const std::string provider_id = in.text("provider_id", "");
    const std::string key_in = in.text("idempotency_key", "");
    if (provider_id.empty() && key_in.empty())
        throw InputError("payments.settle: give provider_id or idempotency_key");

    const std::string select =
        "SELECT p.id, p.idempotency_key, p.status, p.invoice_id, i.client_id, i.status = 'paid' "
        "FROM payments p JOIN invoices i ON i.id = p.invoice_id ";
    auto find = [&]() {
        auto conn = context_.connect();
        pqxx::read_transaction tx(*conn);
        return key_in.empty()
                   ? tx.exec_params(select + "WHERE p.gateway = $1 AND p.gateway_reference = $2",
                                    gateway, provider_id)
                   : tx.exec_params(select + "WHERE p.gateway = $1 AND p.idempotency_key = $2",
                                    gateway, key_in);
    };
    auto rows = find();
    if (rows.empty()) {
        return runtime::StepResult::success({{"matched", false}, {"payment_id", nullptr},
                                             {"invoice_id", nullptr}, {"client_id", nullptr},
                                             {"status", ""}, {"invoice_paid", false},
                                             {"reconciled", false}});
    }
    bool reconciled = false;
    const std::string status = rows[0][2].as<std::string>();
    if (status == "unknown" || status == "pending") {
        gateways::PaymentReconciler reconciler(context_.database_url(), context_.gateways());
        ReconciledPaymentSettler::attach(reconciler);
        auto change = reconciler.reconcile_payment(rows[0][1].as<std::string>());
        if (change && change->lookup_failed)
            throw UnavailableError("payment " + rows[0][0].as<std::string>() +
                                   ": its gateway cannot be asked now: " + change->note);
        reconciled = change.has_value();
        rows = find();
    }
    const auto& r = rows[0];
    return runtime::StepResult::success(
        {{"matched", true}, {"payment_id", r[0].as<std::int64_t>()},
         {"invoice_id", r[3].as<std::int64_t>()}, {"client_id", r[4].as<std::int64_t>()},
         {"status", r[2].as<std::string>()}, {"invoice_paid", r[5].as<bool>()},
         {"reconciled", reconciled}});
}

}  // namespace artistsaid::payments
