// Where a rendered email goes: an SMTP server or an outbox directory (the demo's file sink).
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace artistsaid::plugins {

struct OutgoingMail {
    std::string envelope_from;
    std::vector<std::string> recipients;
    std::string data;  // the RFC 5322 message, CRLF line endings
    std::string idempotency_key;
};

struct MailReceipt {
    std::string transport;  // "smtp" | "outbox"
    std::string detail;     // the SMTP server's host, or the .eml file written
};

/// Thread-safety: send() may be called concurrently.
class MailTransport {
public:
    virtual ~MailTransport() = default;
    /// Hands the mail over. Throws TransportError (not sent / outcome unknown), SmtpRejected,
    /// or WorkError; returns once the server accepted it (or the file is written).
    virtual MailReceipt send(const OutgoingMail& mail,
                             std::chrono::system_clock::time_point deadline) const = 0;
};

}  // namespace artistsaid::plugins
