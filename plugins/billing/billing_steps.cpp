#include "plugins/billing/billing_steps.hpp"

#include "plugins/billing/apply_late_fees_step.hpp"
#include "plugins/billing/change_plan_step.hpp"
#include "plugins/billing/credit_note_step.hpp"
#include "plugins/billing/distribute_commissions_step.hpp"
#include "plugins/billing/documents_due_step.hpp"
#include "plugins/billing/dunning_step.hpp"
#include "plugins/billing/generate_invoices_step.hpp"
#include "plugins/billing/void_credit_note_step.hpp"

namespace artistsaid::billing {

void register_billing_steps(runtime::StepRegistry& registry, ConnectionFactory connect) {
    registry.add(std::make_unique<GenerateInvoicesStep>(connect));
    registry.add(std::make_unique<ApplyLateFeesStep>(connect));
    registry.add(std::make_unique<DunningStep>(connect));
    registry.add(std::make_unique<DistributeCommissionsStep>(connect));
    registry.add(std::make_unique<DocumentsDueStep>(connect));
    registry.add(std::make_unique<CreditNoteStep>(connect));
    registry.add(std::make_unique<ChangePlanStep>(connect));
    registry.add(std::make_unique<VoidCreditNoteStep>(connect));
}

}  // namespace artistsaid::billing
