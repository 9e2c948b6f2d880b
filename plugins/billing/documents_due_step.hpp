// billing.documents_due: the invoices whose document has not been made yet — an unpaid
// invoice issued in the last `since_days` days without its HTML invoice, a paid one (paid in
// that window) without its receipt — as a collection handle for a `for_each` of
// `documents.render_invoice` (plugins/documents). A document recorded by an earlier run is
// never due again, so re-running a day's cycle sends nothing twice; the window keeps a
// first deployment from mailing the whole history.
#pragma once

#include "plugins/billing/billing_steps.hpp"

namespace artistsaid::billing {

class DocumentsDueStep final : public runtime::StepPlugin {
public:
    explicit DocumentsDueStep(ConnectionFactory connect) : connect_(std::move(connect)) {}
    const workflow::StepTypeDescriptor& descriptor() const override;
    runtime::StepResult run(const runtime::StepCall& call) override;

private:
    ConnectionFactory connect_;
};

}  // namespace artistsaid::billing
