#include "cli/step_plugins.hpp"

#include "engine/runtime/builtin_steps.hpp"
#include "plugins/email/email_send_step.hpp"
#include "plugins/exec/exec_step.hpp"
#include "plugins/http/http_request_step.hpp"
#include "plugins/sms/sms_send_step.hpp"
#include "plugins/storage/storage_step.hpp"

namespace artistsaid::cli {

const runtime::StepRegistry& step_registry() {
    static const runtime::StepRegistry registry = [] {
        runtime::StepRegistry r;
        runtime::register_builtin_steps(r);
        // Step plugins (plugins/): settings and secrets from the process environment.
        const auto env = plugins::PluginEnvironment::from_process();
        using plugins::StorageStep;
        r.add(std::make_unique<plugins::HttpRequestStep>());
        r.add(std::make_unique<plugins::EmailSendStep>(env));
        r.add(std::make_unique<plugins::SmsSendStep>(env));
        r.add(std::make_unique<StorageStep>(StorageStep::Operation::kPut, env));
        r.add(std::make_unique<StorageStep>(StorageStep::Operation::kGet, env));
        r.add(std::make_unique<StorageStep>(StorageStep::Operation::kDelete, env));
        r.add(std::make_unique<StorageStep>(StorageStep::Operation::kPresign, env));
        r.add(std::make_unique<plugins::ExecStep>(env.get("ARTISTSAID_EXEC_DIR")));
        return r;
    }();
    return registry;
}

}  // namespace artistsaid::cli
