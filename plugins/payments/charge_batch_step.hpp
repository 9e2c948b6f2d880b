// payments.charge_batch: the step form of BatchInvoiceCharger (batch_invoice_charger.hpp),
// one batch of payments.collect_due's collection per item of its `batches` range.
#pragma once

#include "engine/runtime/step_plugin.hpp"
#include "plugins/payments/payments_context.hpp"

namespace artistsaid::payments {

/// Charges items [batch * batch_size, (batch + 1) * batch_size) of the run's collection
/// `invoices` ({id, collection_day}: payments.collect_due) in one BatchInvoiceCharger call.
/// Each invoice's key is the step's key (run, step, item) + ":" + the invoice id, so a retried
/// or redelivered batch replays final outcomes and looks unknown ones up, never charging
/// twice; the collection day keeps it exclusive with payments.charge for the same day.
/// Declines and unknown outcomes are outputs (counts per status), not failures.
class ChargeBatchStep final : public runtime::StepPlugin {
public:
    explicit ChargeBatchStep(PaymentsContext context) : context_(std::move(context)) {}
    const workflow::StepTypeDescriptor& descriptor() const override;
    runtime::StepResult run(const runtime::StepCall& call) override;

private:
    PaymentsContext context_;
};

}  // namespace artistsaid::payments
