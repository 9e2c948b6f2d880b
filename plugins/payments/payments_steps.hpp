// Registration of the payment step types (payments.charge, payments.settle).
#pragma once

#include "engine/runtime/step_plugin.hpp"
#include "plugins/payments/payments_context.hpp"

namespace artistsaid::payments {

void register_payments_steps(runtime::StepRegistry& registry, const PaymentsContext& context);

}  // namespace artistsaid::payments
