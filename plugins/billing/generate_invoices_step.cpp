#include "plugins/billing/generate_invoices_step.hpp"

#include "plugins/billing/invoice_generator.hpp"
#include "plugins/billing/step_inputs.hpp"

namespace artistsaid::billing {

using workflow::ValueType;

GenerateInvoicesStep::GenerateInvoicesStep(ConnectionFactory connect)
    : connect_(std::move(connect)) {}

const workflow::StepTypeDescriptor& GenerateInvoicesStep::descriptor() const {
    static const workflow::StepTypeDescriptor d{
        "billing.generate_invoices",
        "Invoice every active subscription due within lead_days of as_of (add-ons, usage, tax, "
        "credit, ledger), one invoice per client and currency; never twice per period.",
        {{"as_of", ValueType::kDate, true, "the billing date (issue date of the invoices)", {}},
         {"lead_days", ValueType::kInteger, false,
          "bill subscriptions due up to this many days after as_of (default 0)", {}},
         {"apply_credit", ValueType::kBoolean, false,
          "use client credit balances on the new invoices (default true)", {}},
         {"rounding", ValueType::kString, false, "tax rounding per line (default half_up)",
          {"half_up", "half_even", "half_down", "up", "down"}},
         {"max_periods", ValueType::kInteger, false,
          "catch-up limit: periods billed per subscription and run (default 120)", {}},
         {"dry_run", ValueType::kBoolean, false,
          "compute everything and roll back: outputs say what would be billed", {}},
         {"partitions", ValueType::kInteger, false,
          "split the book into this many client partitions (default 1: all clients)", {}},
         {"partition", ValueType::kInteger, false,
          "bill only clients whose id % partitions equals this (0..partitions-1, default 0)",
          {}}},
        {{"invoices", ValueType::kAny, false,
          "collection handle of the new invoices with a balance to collect: give it to "
          "for_each (items: id, number, client_id, currency, total, balance_due, due_date)", {}},
         {"invoice_count", ValueType::kInteger, false, "invoices created", {}},
         {"to_collect_count", ValueType::kInteger, false, "invoices with a balance due", {}},
         {"subscription_periods", ValueType::kInteger, false, "subscription periods billed", {}},
         {"skipped_subscriptions", ValueType::kInteger, false,
          "subscriptions still due: no price for their currency and cycle, or catch-up limit",
          {}},
         {"totals", ValueType::kObject, false,
          "per currency: invoices, subtotal, tax, total, credit_applied, balance_due (minor "
          "units)", {}},
         {"billing_run_id", ValueType::kInteger, false, "the billing_runs row", {}},
         {"replayed", ValueType::kBoolean, false,
          "true when this execution had already happened (outputs are the first one's)", {}},
         {"dry_run", ValueType::kBoolean, false, "whether nothing was written", {}}}};
    return d;
}

runtime::StepResult GenerateInvoicesStep::run(const runtime::StepCall& call) {
    StepInputs in("billing.generate_invoices", call.with);
    InvoiceRunOptions o;
    o.as_of = in.date("as_of");
    o.lead_days = static_cast<int>(in.integer("lead_days", 0, 0, 366));
    o.apply_credit = in.boolean("apply_credit", true);
    o.rounding = in.rounding("rounding");
    o.max_periods = static_cast<int>(in.integer("max_periods", 120, 1, 1000));
    o.dry_run = in.boolean("dry_run", false);
    o.partitions = static_cast<int>(in.integer("partitions", 1, 1, kMaxPartitions));
    o.partition = static_cast<int>(in.integer("partition", 0, 0, kMaxPartitions - 1));
    o.idempotency_key = call.idempotency_key;
    o.run_id = call.run_id;
    auto conn = connect_();
    return runtime::StepResult::success(InvoiceGenerator().generate(*conn, o));
}

}  // namespace artistsaid::billing
