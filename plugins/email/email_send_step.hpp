// `email.send`: renders a template (or inline subject/text/html) into a MIME message and
// sends it over SMTP — or, when no SMTP server is configured, writes it to the outbox
// directory. A send is recorded in step_effects under the step's idempotency key
// (EffectGuard): a key already sent is not sent again, and the Message-ID is derived from
// the key, so even the remaining window (a crash between the server's acceptance and our
// commit) yields a duplicate with the same Message-ID.
//
// Settings (environment, read when the plugin is made):
//   ARTISTSAID_SMTP_URL            smtp://host:587 or smtps://host:465; unset: outbox
//   ARTISTSAID_SMTP_TLS            if_offered (default: STARTTLS when the server offers it)
//                                  | required (fail unless the connection is TLS)
//   ARTISTSAID_SMTP_USERNAME       AUTH user; the password is the secret SMTP_PASSWORD
//   ARTISTSAID_SMTP_CA_FILE        a CA bundle to trust instead of the system's
//   ARTISTSAID_EMAIL_OUTBOX_DIR    the file sink's directory (when no SMTP URL)
//   ARTISTSAID_EMAIL_TEMPLATES_DIR default <install>/templates/email
//   ARTISTSAID_EMAIL_FROM          sender address; ARTISTSAID_EMAIL_FROM_NAME its name
//   ARTISTSAID_DATABASE_URL        where sends are recorded
// Thread-safety: run() may be called concurrently.
#pragma once

#include "engine/runtime/step_plugin.hpp"
#include "plugins/common/plugin_environment.hpp"

namespace artistsaid::plugins {

class EmailSendStep final : public runtime::StepPlugin {
public:
    explicit EmailSendStep(PluginEnvironment environment);
    const workflow::StepTypeDescriptor& descriptor() const override;
    runtime::StepResult run(const runtime::StepCall& call) override;

private:
    PluginEnvironment env_;
};

}  // namespace artistsaid::plugins
