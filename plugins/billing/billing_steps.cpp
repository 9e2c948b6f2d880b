#include "plugins/billing/billing_steps.hpp"

#include "plugins/billing/generate_invoices_step.hpp"

namespace artistsaid::billing {

void register_billing_steps(runtime::StepRegistry& registry, ConnectionFactory connect) {
    registry.add(std::make_unique<GenerateInvoicesStep>(connect));
}

}  // namespace artistsaid::billing
