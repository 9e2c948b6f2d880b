// payments.collect_due: the invoices to charge today under the collection schedule — the
// dunning policy's "capture N days before due, then retry at due + 0, +3, +7, +14" as
// workflow settings. `schedule` lists days relative to each invoice's due date (negative:
// before it). An unpaid invoice with a balance is due for collection on the latest schedule
// day on or before `as_of` unless an attempt for that day or a later one exists, and never
// while an earlier attempt's outcome is unknown or pending (reconciliation first). So a
// missed day is caught up by the next run, a re-run of the day charges nothing again (the
// charge records its `collection_day`, unique per invoice), and after the last schedule
// day the invoice is left to dunning.
// Outputs a collection of {id, collection_day, attempt} for a `for_each` of payments.charge.
#pragma once

#include "engine/runtime/step_plugin.hpp"
#include "plugins/payments/payments_context.hpp"

namespace artistsaid::payments {

class CollectDueStep final : public runtime::StepPlugin {
public:
    explicit CollectDueStep(PaymentsContext context) : context_(std::move(context)) {}
    const workflow::StepTypeDescriptor& descriptor() const override;
    runtime::StepResult run(const runtime::StepCall& call) override;

private:
    PaymentsContext context_;
};

}  // namespace artistsaid::payments
