// Sends mail over SMTP with libcurl: STARTTLS when the server offers it (or required:
// the send fails if the server does not offer it), implicit TLS for smtps://, AUTH with a
// user and password, certificate verification on, connect and total deadlines.
#pragma once

#include <optional>
#include <stdexcept>

#include "engine/core/error.hpp"
#include "plugins/email/mail_transport.hpp"

namespace artistsaid::plugins {

struct SmtpSettings {
    std::string url;  // smtp://host:587 or smtps://host:465
    enum class Tls { kIfOffered, kRequired };
    Tls tls = Tls::kIfOffered;
    std::optional<std::string> username;
    std::optional<std::string> password;
    std::string ca_file;  // empty: the system's trust store
    std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
    std::chrono::milliseconds timeout{std::chrono::seconds(60)};
};

/// The server refused the mail with an SMTP reply code (4xx transient, 5xx permanent).
class SmtpRejected : public WorkError {
public:
    SmtpRejected(const std::string& message, long reply_code)
        : WorkError(message), reply_code_(reply_code) {}
    long reply_code() const noexcept { return reply_code_; }
    bool permanent() const noexcept { return reply_code_ >= 500; }

private:
    long reply_code_;
};

class SmtpTransport final : public MailTransport {
public:
    explicit SmtpTransport(SmtpSettings settings);
    MailReceipt send(const OutgoingMail& mail,
                     std::chrono::system_clock::time_point deadline) const override;

private:
    SmtpSettings settings_;
};

}  // namespace artistsaid::plugins
