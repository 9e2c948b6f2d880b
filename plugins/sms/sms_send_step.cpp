#include "plugins/sms/sms_send_step.hpp"

#include "engine/core/error.hpp"
#include "engine/http/curl_error.hpp"
#include "plugins/common/effect_guard.hpp"
#include "plugins/common/step_inputs.hpp"
#include "plugins/sms/phone_number.hpp"

namespace artistsaid::plugins {
namespace {

using workflow::FieldDescriptor;
using workflow::ValueType;

constexpr std::size_t kMaxBodyChars = 1600;  // Twilio's limit (error 21617)

std::size_t utf8_length(const std::string& s) {
    std::size_t n = 0;
    for (unsigned char c : s)
        if ((c & 0xC0) != 0x80) ++n;
    return n;
}

// The provider refused the message (4xx): final, nothing was sent.
class TwilioRefused : public WorkError {
public:
    using WorkError::WorkError;
};
// Throttled or unavailable (429, 503): nothing was sent, try later.
class TwilioBusy : public WorkError {
public:
    using WorkError::WorkError;
};

}  // namespace

SmsSendStep::SmsSendStep(PluginEnvironment environment, const http::HttpClient& client)
    : env_(std::move(environment)), client_(client) {}

const workflow::StepTypeDescriptor& SmsSendStep::descriptor() const {
    static const workflow::StepTypeDescriptor d{
        "sms.send",
        "sends a text message through Twilio's Messages API",
        {
            FieldDescriptor{"to", ValueType::kString, true, "E.164 number, e.g. +4915112345678", {}},
            FieldDescriptor{"body", ValueType::kString, true, "the text, at most 1600 characters", {}},
            FieldDescriptor{"from", ValueType::kString, false,
                            "E.164 sender (default ARTISTSAID_TWILIO_FROM)", {}},
            FieldDescriptor{"messaging_service_sid", ValueType::kString, false,
                            "MG... instead of from", {}},
            FieldDescriptor{"status_callback", ValueType::kString, false,
                            "URL for delivery status callbacks", {}},
        },
        {
            FieldDescriptor{"sid", ValueType::kString, false, "Twilio's message SID (SM...)", {}},
            FieldDescriptor{"status", ValueType::kString, false, "Twilio's status at creation (queued)", {}},
            FieldDescriptor{"already_sent", ValueType::kBoolean, false, "recorded by an earlier attempt", {}},
        }};
    return d;
}

runtime::StepResult SmsSendStep::run(const runtime::StepCall& call) {
    StepInputs in("sms.send", call.with);
    const std::string to = in.string("to");
    if (!is_e164(to)) in.fail("to", "must be an E.164 number like +4915112345678");
    const std::string body = in.string("body");
    if (utf8_length(body) > kMaxBodyChars) in.fail("body", "is longer than 1600 characters");
    std::string from = in.string_or("from", "");
    std::string service = in.string_or("messaging_service_sid", "");
    if (from.empty() && service.empty()) {
        from = env_.get_or("ARTISTSAID_TWILIO_FROM", "");
        service = env_.get_or("ARTISTSAID_TWILIO_MESSAGING_SERVICE_SID", "");
    }
    if (!from.empty() && !service.empty()) in.fail("from", "and messaging_service_sid exclude each other");
    if (from.empty() && service.empty())
        in.fail("from", "or messaging_service_sid is required (or ARTISTSAID_TWILIO_FROM)");
    if (!from.empty() && !is_e164(from)) in.fail("from", "must be an E.164 number");
    if (!service.empty() && (service.size() != 34 || service.rfind("MG", 0) != 0))
        in.fail("messaging_service_sid", "must be MG followed by 32 characters");
    std::string callback = in.string_or("status_callback", env_.get_or("ARTISTSAID_TWILIO_STATUS_CALLBACK", ""));
    if (callback.empty()) {
        // The public URL `artistsaid serve` is reached at (the one it checks Twilio's
        // signatures against): callbacks go to its Twilio webhook door.
        std::string public_url = env_.get_or("ARTISTSAID_HTTP_PUBLIC_URL", "");
        while (!public_url.empty() && public_url.back() == '/') public_url.pop_back();
        if (!public_url.empty()) callback = public_url + "/hooks/twilio";
    }
    if (!callback.empty() && callback.rfind("https://", 0) != 0 && callback.rfind("http://", 0) != 0)
        in.fail("status_callback", "must be an http(s) URL");

    const std::string sid = env_.required_secret("TWILIO_ACCOUNT_SID", "sms.send");
    const std::string token = env_.required_secret("TWILIO_AUTH_TOKEN", "sms.send");
    auto db = env_.get("ARTISTSAID_DATABASE_URL");
    if (!db) throw InputError("sms.send: sends are recorded in PostgreSQL: set ARTISTSAID_DATABASE_URL");
    std::string base = env_.get_or("ARTISTSAID_TWILIO_BASE_URL", "https://api.twilio.com");
    while (!base.empty() && base.back() == '/') base.pop_back();

    http::HttpRequest request;
    request.method = "POST";
    request.url = base + "/2010-04-01/Accounts/" + http::percent_encode(sid) + "/Messages.json";
    http::HeaderList fields{{"To", to}};
    if (!from.empty()) fields.emplace_back("From", from);
    if (!service.empty()) fields.emplace_back("MessagingServiceSid", service);
    fields.emplace_back("Body", body);
    if (!callback.empty()) fields.emplace_back("StatusCallback", callback);
    request.form(fields).basic_auth(sid, token);
    request.deadline = call.deadline;
    request.timeout = std::chrono::seconds(30);
    request.max_response_bytes = 256 * 1024;
    request.cancel = call.should_stop;

    auto send = [&]() -> nlohmann::json {
        http::HttpResponse res = client_.send(request);
        if (res.status == 201 || res.status == 200) {
            auto j = res.json();
            if (!j.contains("sid") || !j["sid"].is_string())
                throw http::TransportError("Twilio answered " + std::to_string(res.status) + " without a sid",
                                           http::TransportError::Outcome::kOutcomeUnknown, 0, false);
            return {{"sid", j["sid"]}, {"status", j.value("status", "queued")}};
        }
        std::string detail;
        try {
            auto j = res.json();
            detail = " (Twilio error " + std::to_string(j.value("code", 0)) + ": " +
                     j.value("message", std::string()) + ")";
        } catch (const Error&) {
        }
        std::string text = "Twilio answered HTTP " + std::to_string(res.status) + detail;
        if (res.status == 429 || res.status == 503) throw TwilioBusy(text);
        if (res.status >= 500)
            throw http::TransportError(text, http::TransportError::Outcome::kOutcomeUnknown, 0, false);
        throw TwilioRefused(text);
    };
    auto record = [&](pqxx::work& tx, const nlohmann::json& result) {
        tx.exec_params0(
            "INSERT INTO sms_messages (idempotency_key, provider_sid, account_sid, to_number, "
            "from_number, messaging_service_sid, status, run_id) VALUES ($1, $2, $3, $4, $5, $6, $7, "
            "(SELECT id FROM workflow_runs WHERE id::text = $8)) "
            "ON CONFLICT (idempotency_key) DO NOTHING",
            call.idempotency_key, result["sid"].get<std::string>(), sid, to,
            from.empty() ? std::optional<std::string>() : std::optional<std::string>(from),
            service.empty() ? std::optional<std::string>() : std::optional<std::string>(service),
            result["status"].get<std::string>(), call.run_id);
    };
    try {
        auto outcome = EffectGuard(*db).run_once(call.idempotency_key, "sms", call.run_id,
                                                 call.deadline, send, record);
        nlohmann::json out = outcome.result;
        out["already_sent"] = outcome.replayed;
        return runtime::StepResult::success(out);
    } catch (const UnknownOutcomeError& e) {
        return runtime::StepResult::failure(e.what(), false);
    } catch (const TwilioRefused& e) {
        return runtime::StepResult::failure(e.what(), false);
    } catch (const TwilioBusy& e) {
        return runtime::StepResult::failure(e.what(), true);
    } catch (const http::TransportError& e) {
        return runtime::StepResult::failure(e.what(), !e.outcome_unknown());
    }
}

}  // namespace artistsaid::plugins
