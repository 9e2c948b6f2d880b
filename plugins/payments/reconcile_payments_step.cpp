#include "plugins/payments/reconcile_payments_step.hpp"

#include "engine/core/duration.hpp"
#include "engine/core/error.hpp"
#include "gateways/reconcile/payment_reconciler.hpp"
#include "plugins/billing/step_inputs.hpp"
#include "plugins/payments/reconciled_payment_settler.hpp"

namespace artistsaid::payments {

using workflow::ValueType;

const workflow::StepTypeDescriptor& ReconcilePaymentsStep::descriptor() const {
    static const workflow::StepTypeDescriptor d{
        "payments.reconcile",
        "Look up payments, refunds and payouts whose outcome is unknown or pending at their "
        "gateway (never charging again); a charge found succeeded settles its invoice once.",
        {{"min_age", ValueType::kDuration, false,
          "leave younger rows alone: their call may be in flight (default 2m; keep it above "
          "the charge step's timeout)", {}},
         {"limit", ValueType::kInteger, false, "rows looked at (default 500)", {}}},
        {{"checked", ValueType::kInteger, false, "rows looked at", {}},
         {"resolved", ValueType::kInteger, false, "rows whose status changed", {}},
         {"unchanged", ValueType::kInteger, false, "still unknown or pending", {}},
         {"errors", ValueType::kInteger, false, "gateways that could not be asked", {}}}};
    return d;
}

runtime::StepResult ReconcilePaymentsStep::run(const runtime::StepCall& call) {
    billing::StepInputs in("payments.reconcile", call.with);
    gateways::ReconcileOptions options;
    options.min_age = std::chrono::duration_cast<std::chrono::seconds>(
        parse_duration(in.text("min_age", "2m")));
    options.limit = static_cast<int>(in.integer("limit", 500, 1, 100000));
    gateways::PaymentReconciler reconciler(context_.database_url(), context_.gateways(), options);
    ReconciledPaymentSettler::attach(reconciler);
    const auto report = reconciler.run_once();
    if (report.errors > 0 && report.resolved == 0 && report.unchanged == 0)
        throw UnavailableError("payments.reconcile: no gateway could be asked (" +
                               std::to_string(report.errors) + " row(s))");
    return runtime::StepResult::success({{"checked", report.checked},
                                         {"resolved", report.resolved},
                                         {"unchanged", report.unchanged},
                                         {"errors", report.errors}});
}

}  // namespace artistsaid::payments
