// An email as RFC 5322 + MIME text: multipart/alternative (text + HTML) or text/plain,
// UTF-8 bodies in base64, non-ASCII subjects and display names as RFC 2047 encoded words,
// Message-ID, Date, MIME-Version, and List-Unsubscribe (+ List-Unsubscribe-Post, RFC 8058)
// for marketing mail. Header values with CR or LF are refused (no header injection).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace artistsaid::plugins {

struct MailAddress {
    std::string address;  // local@domain
    std::string name;     // display name, may be empty or non-ASCII
};

struct MimeMessage {
    MailAddress from;
    std::vector<MailAddress> to;
    std::optional<MailAddress> reply_to;
    std::string subject;
    std::string text;
    std::optional<std::string> html;
    std::string message_id;  // without angle brackets: "abc@example.com"
    std::chrono::system_clock::time_point date;
    std::optional<std::string> list_unsubscribe_url;  // marketing mail

    /// The full message with CRLF line endings. Throws InputError on a bad header value.
    std::string render() const;
};

/// Checks an address is a plain local@domain (no spaces, angle brackets, CR/LF); InputError.
void check_mail_address(const std::string& address, const std::string& field);

/// RFC 2047 B-encoding of `text` into encoded words of at most 75 characters each (split on
/// UTF-8 character boundaries), folded with CRLF SP; ASCII text without specials unchanged.
std::string encode_header_text(const std::string& text);

/// "Name <address>" with the name quoted or encoded as needed; just the address if no name.
std::string format_address(const MailAddress& a);

/// RFC 5322 date-time in UTC ("Fri, 27 Nov 2026 18:41:27 +0000").
std::string rfc5322_date(std::chrono::system_clock::time_point t);

}  // namespace artistsaid::plugins
