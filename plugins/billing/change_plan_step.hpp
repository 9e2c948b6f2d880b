// billing.change_plan: the step form of PlanChanger (plan_changer.hpp).
#pragma once

#include "plugins/billing/billing_steps.hpp"

namespace artistsaid::billing {

class ChangePlanStep final : public runtime::StepPlugin {
public:
    explicit ChangePlanStep(ConnectionFactory connect) : connect_(std::move(connect)) {}
    const workflow::StepTypeDescriptor& descriptor() const override;
    runtime::StepResult run(const runtime::StepCall& call) override;

private:
    ConnectionFactory connect_;
};

}  // namespace artistsaid::billing
