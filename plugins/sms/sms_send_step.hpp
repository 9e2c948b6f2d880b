// `sms.send`: one text message through Twilio's Messages API
// (POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json, HTTP Basic auth with the
// account SID and auth token, form fields To, From or MessagingServiceSid, Body,
// StatusCallback). Numbers must be E.164.
//
// Twilio offers no idempotency key for Messages, so the send is guarded by EffectGuard
// (step_effects) and recorded in sms_messages (migration 0006) in the same transaction:
// a key already sent returns the recorded SID without sending. A request whose outcome is
// unknown (timeout, lost response, a 5xx other than 503) is recorded as unknown and not
// resent. The status-callback webhook (/hooks/twilio, the HTTP server's) updates
// sms_messages.status, error_code and status_updated_at by provider_sid, never backwards
// (engine/http/sms_status_recorder.hpp).
// StatusCallback is the step's `status_callback`, else ARTISTSAID_TWILIO_STATUS_CALLBACK,
// else ARTISTSAID_HTTP_PUBLIC_URL + "/hooks/twilio" (the server's public URL), else none.
//
// Settings: ARTISTSAID_TWILIO_BASE_URL (default https://api.twilio.com), the secrets
// TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, defaults ARTISTSAID_TWILIO_FROM,
// ARTISTSAID_TWILIO_MESSAGING_SERVICE_SID, ARTISTSAID_TWILIO_STATUS_CALLBACK;
// ARTISTSAID_HTTP_PUBLIC_URL; ARTISTSAID_DATABASE_URL.
// Thread-safety: run() may be called concurrently.
#pragma once

#include "engine/http/http_client.hpp"
#include "engine/runtime/step_plugin.hpp"
#include "plugins/common/plugin_environment.hpp"

namespace artistsaid::plugins {

class SmsSendStep final : public runtime::StepPlugin {
public:
    explicit SmsSendStep(PluginEnvironment environment,
                         const http::HttpClient& client = http::HttpClient::shared());
    const workflow::StepTypeDescriptor& descriptor() const override;
    runtime::StepResult run(const runtime::StepCall& call) override;

private:
    PluginEnvironment env_;
    const http::HttpClient& client_;
};

}  // namespace artistsaid::plugins
