#include "plugins/email/email_send_step.hpp"

#include <memory>

#include "engine/core/digest.hpp"
#include "engine/core/error.hpp"
#include "engine/http/curl_error.hpp"
#include "plugins/common/effect_guard.hpp"
#include "plugins/common/step_inputs.hpp"
#include "plugins/email/email_templates.hpp"
#include "plugins/email/mime_message.hpp"
#include "plugins/email/outbox_transport.hpp"
#include "plugins/email/smtp_transport.hpp"

#ifndef ARTISTSAID_DATA_DIR
#define ARTISTSAID_DATA_DIR "."
#endif

namespace artistsaid::plugins {
namespace {

using workflow::FieldDescriptor;
using workflow::ValueType;

std::unique_ptr<MailTransport> make_transport(const PluginEnvironment& env) {
    if (auto url = env.get("ARTISTSAID_SMTP_URL")) {
        SmtpSettings s;
        s.url = *url;
        std::string tls = env.get_or("ARTISTSAID_SMTP_TLS", "if_offered");
        if (tls == "required") {
            s.tls = SmtpSettings::Tls::kRequired;
        } else if (tls != "if_offered") {
            throw InputError("email.send: ARTISTSAID_SMTP_TLS must be if_offered or required");
        }
        s.username = env.get("ARTISTSAID_SMTP_USERNAME");
        s.password = env.secret("SMTP_PASSWORD");
        s.ca_file = env.get_or("ARTISTSAID_SMTP_CA_FILE", "");
        return std::make_unique<SmtpTransport>(std::move(s));
    }
    if (auto dir = env.get("ARTISTSAID_EMAIL_OUTBOX_DIR")) return std::make_unique<OutboxTransport>(*dir);
    throw InputError(
        "email.send: no SMTP server (ARTISTSAID_SMTP_URL) and no outbox directory "
        "(ARTISTSAID_EMAIL_OUTBOX_DIR) is configured");
}

}  // namespace

EmailSendStep::EmailSendStep(PluginEnvironment environment) : env_(std::move(environment)) {}

const workflow::StepTypeDescriptor& EmailSendStep::descriptor() const {
    static const workflow::StepTypeDescriptor d{
        "email.send",
        "sends an email from a template (SMTP, or the outbox directory when no SMTP is set)",
        {
            FieldDescriptor{"to", ValueType::kString, true, "recipient address", {}},
            FieldDescriptor{"to_name", ValueType::kString, false, "recipient display name", {}},
            FieldDescriptor{"template", ValueType::kString, false,
                            "template name in the templates folder (or give subject + text)", {}},
            FieldDescriptor{"locale", ValueType::kString, false, "e.g. de-AT; default en", {}},
            FieldDescriptor{"data", ValueType::kObject, false, "the template's variables", {}},
            FieldDescriptor{"subject", ValueType::kString, false, "without a template", {}},
            FieldDescriptor{"text", ValueType::kString, false, "without a template", {}},
            FieldDescriptor{"html", ValueType::kString, false, "without a template (optional)", {}},
            FieldDescriptor{"from", ValueType::kString, false, "default ARTISTSAID_EMAIL_FROM", {}},
            FieldDescriptor{"from_name", ValueType::kString, false, "sender display name", {}},
            FieldDescriptor{"reply_to", ValueType::kString, false, "Reply-To address", {}},
            FieldDescriptor{"category", ValueType::kString, false, "default transactional",
                            {"transactional", "marketing"}},
            FieldDescriptor{"unsubscribe_url", ValueType::kString, false,
                            "https URL; required for marketing mail (List-Unsubscribe)", {}},
        },
        {
            FieldDescriptor{"message_id", ValueType::kString, false, "the Message-ID, without <>", {}},
            FieldDescriptor{"status", ValueType::kString, false, "sent | already_sent", {}},
            FieldDescriptor{"transport", ValueType::kString, false, "smtp | outbox", {}},
            FieldDescriptor{"detail", ValueType::kString, false, "SMTP host, or the .eml file", {}},
        }};
    return d;
}

runtime::StepResult EmailSendStep::run(const runtime::StepCall& call) {
    StepInputs in("email.send", call.with);
    MimeMessage m;
    m.to.push_back({in.string("to"), in.string_or("to_name", "")});
    m.from.address = in.string_or("from", env_.get_or("ARTISTSAID_EMAIL_FROM", ""));
    if (m.from.address.empty())
        in.fail("from", "is not set and ARTISTSAID_EMAIL_FROM is not configured");
    m.from.name = in.string_or("from_name", env_.get_or("ARTISTSAID_EMAIL_FROM_NAME", ""));
    if (auto r = in.optional_string("reply_to")) m.reply_to = MailAddress{*r, ""};

    if (auto name = in.optional_string("template")) {
        if (in.has("subject") || in.has("text") || in.has("html"))
            in.fail("template", "cannot be combined with subject, text or html");
        const auto& data = in.value("data");
        if (!data.is_null() && !data.is_object()) in.fail("data", "must be an object");
        EmailTemplates templates(env_.get_or("ARTISTSAID_EMAIL_TEMPLATES_DIR",
                                             std::string(ARTISTSAID_DATA_DIR) + "/templates/email"));
        auto rendered = templates.render(*name, in.string_or("locale", "en"),
                                         data.is_null() ? nlohmann::json::object() : data);
        m.subject = rendered.subject;
        m.text = rendered.text;
        m.html = rendered.html;
    } else {
        m.subject = in.string("subject");
        m.text = in.string("text");
        if (auto html = in.optional_string("html")) m.html = *html;
    }
    const std::string category = in.string_or("category", "transactional");
    if (category != "transactional" && category != "marketing")
        in.fail("category", "must be transactional or marketing");
    if (auto url = in.optional_string("unsubscribe_url")) {
        if (url->rfind("https://", 0) != 0 && url->rfind("mailto:", 0) != 0)
            in.fail("unsubscribe_url", "must be an https: or mailto: URL");
        m.list_unsubscribe_url = *url;
    } else if (category == "marketing") {
        in.fail("unsubscribe_url", "is required for marketing mail (List-Unsubscribe)");
    }
    const std::string domain = m.from.address.substr(m.from.address.rfind('@') + 1);
    m.message_id = sha256_hex("email.send:" + call.idempotency_key).substr(0, 32) + "@" + domain;
    m.date = std::chrono::system_clock::now();

    OutgoingMail mail;
    mail.envelope_from = m.from.address;
    mail.recipients = {m.to.front().address};
    mail.data = m.render();  // validates every header before anything is recorded
    mail.idempotency_key = call.idempotency_key;
    auto transport = make_transport(env_);

    auto send = [&] {
        MailReceipt receipt = transport->send(mail, call.deadline);
        return nlohmann::json{{"message_id", m.message_id},
                              {"transport", receipt.transport},
                              {"detail", receipt.detail}};
    };
    try {
        nlohmann::json out;
        bool replayed = false;
        if (auto db = env_.get("ARTISTSAID_DATABASE_URL")) {
            auto outcome = EffectGuard(*db).run_once(call.idempotency_key, "email", call.run_id,
                                                     call.deadline, send);
            out = outcome.result;
            replayed = outcome.replayed;
        } else if (env_.get("ARTISTSAID_SMTP_URL")) {
            throw InputError("email.send: SMTP sends are recorded in PostgreSQL: set ARTISTSAID_DATABASE_URL");
        } else {
            out = send();  // the outbox file itself records the send
        }
        out["status"] = replayed ? "already_sent" : "sent";
        return runtime::StepResult::success(out);
    } catch (const UnknownOutcomeError& e) {
        return runtime::StepResult::failure(e.what(), false);
    } catch (const SmtpRejected& e) {
        return runtime::StepResult::failure(e.what(), !e.permanent());
    } catch (const http::TransportError& e) {
        // Sent but unanswered: recorded as unknown by the guard; never resent blindly.
        return runtime::StepResult::failure(e.what(), !e.outcome_unknown());
    }
}

}  // namespace artistsaid::plugins
