// The step form of DunningRunner (dunning_runner.hpp): billing.dunning.
#pragma once

#include "plugins/billing/billing_steps.hpp"

namespace artistsaid::billing {

class DunningStep final : public runtime::StepPlugin {
public:
    explicit DunningStep(ConnectionFactory connect) : connect_(std::move(connect)) {}
    const workflow::StepTypeDescriptor& descriptor() const override;
    runtime::StepResult run(const runtime::StepCall& call) override;

private:
    ConnectionFactory connect_;
};

}  // namespace artistsaid::billing
