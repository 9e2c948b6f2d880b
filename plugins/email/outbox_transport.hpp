// The file sink: writes each mail as <directory>/<key>.eml (atomically: a temporary file
// renamed into place) instead of sending it — for the demo and development without SMTP.
// A key whose file exists is not written again.
#pragma once

#include "plugins/email/mail_transport.hpp"

namespace artistsaid::plugins {

class OutboxTransport final : public MailTransport {
public:
    explicit OutboxTransport(std::string directory);
    MailReceipt send(const OutgoingMail& mail,
                     std::chrono::system_clock::time_point deadline) const override;
    /// The file a key's mail is written to.
    std::string path_for(const std::string& idempotency_key) const;

private:
    std::string directory_;
};

}  // namespace artistsaid::plugins
