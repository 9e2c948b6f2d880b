#include "plugins/email/outbox_transport.hpp"

#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>

#include "engine/core/digest.hpp"
#include "engine/core/error.hpp"

namespace artistsaid::plugins {

OutboxTransport::OutboxTransport(std::string directory) : directory_(std::move(directory)) {}

std::string OutboxTransport::path_for(const std::string& key) const {
    std::string safe;
    for (char c : key.substr(0, 80))
        safe += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.') ? c : '_';
    // The hash keeps two keys that map to the same safe text apart.
    return directory_ + "/" + safe + "-" + sha256_hex(key).substr(0, 12) + ".eml";
}

MailReceipt OutboxTransport::send(const OutgoingMail& mail, std::chrono::system_clock::time_point) const {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(directory_, ec);
    if (ec) throw WorkError("email outbox: cannot create " + directory_ + ": " + ec.message());
    const std::string path = path_for(mail.idempotency_key);
    if (fs::exists(path, ec)) return {"outbox", path};
    const std::string tmp = path + ".tmp" + std::to_string(::getpid());
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << mail.data;
        out.flush();
        if (!out) throw WorkError("email outbox: cannot write " + tmp);
    }
    fs::rename(tmp, path, ec);
    if (ec) throw WorkError("email outbox: cannot rename into " + path + ": " + ec.message());
    return {"outbox", path};
}

}  // namespace artistsaid::plugins
