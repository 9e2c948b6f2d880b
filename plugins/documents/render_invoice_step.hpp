// `documents.render_invoice`: renders one invoice's HTML document (the invoice while it is
// unpaid, the receipt once paid) from templates/documents/, stores it through the configured
// storage backend (the same settings as storage.put) and records it in `documents` — once:
// a retried or redelivered execution, or a later run, finds the recorded document and
// returns it without storing again (a unique index per invoice and kind decides).
// Its outputs carry what an `email.send` with the `invoice` or `receipt` template needs.
//
// Settings: ARTISTSAID_DOCUMENT_TEMPLATES_DIR (default the source tree's templates/documents).
// Thread-safety: run() may be called concurrently.
#pragma once

#include <functional>
#include <memory>
#include <pqxx/connection>

#include "engine/runtime/step_plugin.hpp"
#include "engine/store/connection_pool.hpp"
#include "plugins/common/plugin_environment.hpp"

namespace artistsaid::plugins {

class RenderInvoiceStep final : public runtime::StepPlugin {
public:
    using ConnectionFactory = std::function<store::ConnectionPool::Lease()>;
    RenderInvoiceStep(ConnectionFactory connect, PluginEnvironment environment);
    const workflow::StepTypeDescriptor& descriptor() const override;
    runtime::StepResult run(const runtime::StepCall& call) override;

private:
    ConnectionFactory connect_;
    PluginEnvironment env_;
};

}  // namespace artistsaid::plugins
