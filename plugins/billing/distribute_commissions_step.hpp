// The step form of CommissionDistributor (commission_distributor.hpp): commissions.distribute.
#pragma once

#include "plugins/billing/billing_steps.hpp"

namespace artistsaid::billing {

class DistributeCommissionsStep final : public runtime::StepPlugin {
public:
    explicit DistributeCommissionsStep(ConnectionFactory connect) : connect_(std::move(connect)) {}
    const workflow::StepTypeDescriptor& descriptor() const override;
    runtime::StepResult run(const runtime::StepCall& call) override;

private:
    ConnectionFactory connect_;
};

}  // namespace artistsaid::billing
