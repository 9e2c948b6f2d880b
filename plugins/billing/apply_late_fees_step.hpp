// The step form of LateFeeApplier (late_fee_applier.hpp): billing.apply_late_fees.
#pragma once

#include "plugins/billing/billing_steps.hpp"

namespace artistsaid::billing {

class ApplyLateFeesStep final : public runtime::StepPlugin {
public:
    explicit ApplyLateFeesStep(ConnectionFactory connect) : connect_(std::move(connect)) {}
    const workflow::StepTypeDescriptor& descriptor() const override;
    runtime::StepResult run(const runtime::StepCall& call) override;

private:
    ConnectionFactory connect_;
};

}  // namespace artistsaid::billing
