#include "plugins/email/mime_message.hpp"

#include <ctime>

#include "engine/core/digest.hpp"
#include "engine/core/error.hpp"
#include "plugins/common/encoding.hpp"

namespace artistsaid::plugins {
namespace {

void check_header_value(const std::string& value, const std::string& field) {
    if (value.find_first_of("\r\n") != std::string::npos || value.find('\0') != std::string::npos)
        throw InputError("email: " + field + " may not contain line breaks");
}

bool is_ascii_plain(const std::string& s) {
    for (unsigned char c : s)
        if (c < 0x20 || c >= 0x7F) return false;
    return s.find("=?") == std::string::npos;
}

// Base64 body lines of 76 characters, CRLF-terminated.
std::string base64_lines(const std::string& bytes) {
    std::string b64 = base64_encode(bytes), out;
    for (std::size_t i = 0; i < b64.size(); i += 76) out += b64.substr(i, 76) + "\r\n";
    return out;
}

}  // namespace

void check_mail_address(const std::string& address, const std::string& field) {
    auto at = address.rfind('@');
    bool ok = at != std::string::npos && at > 0 && at + 1 < address.size() && address.size() <= 254;
    for (unsigned char c : address)
        if (c <= 0x20 || c >= 0x7F || c == '<' || c == '>' || c == '(' || c == ')' || c == ',' ||
            c == ';' || c == '"' || c == '\\')
            ok = false;
    if (ok && address.find('.', at) == std::string::npos && address.substr(at + 1) != "localhost")
        ok = false;
    if (!ok) throw InputError("email: " + field + " is not an email address: '" + address.substr(0, 60) + "'");
}

std::string encode_header_text(const std::string& text) {
    if (is_ascii_plain(text)) return text;
    // Each encoded word "=?UTF-8?B?...?=" is at most 75 chars: 12 of framing, so at most 63
    // base64 characters = 45 bytes of text, cut before a UTF-8 continuation byte.
    std::string out;
    std::size_t i = 0;
    while (i < text.size()) {
        std::size_t n = std::min<std::size_t>(45, text.size() - i);
        while (n > 0 && i + n < text.size() && (static_cast<unsigned char>(text[i + n]) & 0xC0) == 0x80)
            --n;
        if (!out.empty()) out += "\r\n ";
        out += "=?UTF-8?B?" + base64_encode(text.substr(i, n)) + "?=";
        i += n;
    }
    return out;
}

std::string format_address(const MailAddress& a) {
    if (a.name.empty()) return a.address;
    std::string name;
    if (!is_ascii_plain(a.name)) {
        name = encode_header_text(a.name);
    } else {
        bool specials = a.name.find_first_of("()<>[]:;@\\,.\"") != std::string::npos;
        if (specials) {
            name = "\"";
            for (char c : a.name) {
                if (c == '"' || c == '\\') name += '\\';
                name += c;
            }
            name += "\"";
        } else {
            name = a.name;
        }
    }
    return name + " <" + a.address + ">";
}

std::string rfc5322_date(std::chrono::system_clock::time_point t) {
    std::time_t tt = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    static const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday],
                  tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

std::string MimeMessage::render() const {
    check_mail_address(from.address, "from");
    check_header_value(from.name, "from name");
    if (to.empty()) throw InputError("email: no recipient");
    for (const auto& r : to) {
        check_mail_address(r.address, "to");
        check_header_value(r.name, "to name");
    }
    if (reply_to) {
        check_mail_address(reply_to->address, "reply_to");
        check_header_value(reply_to->name, "reply_to name");
    }
    check_header_value(subject, "subject");
    check_header_value(message_id, "message id");
    if (list_unsubscribe_url) {
        check_header_value(*list_unsubscribe_url, "unsubscribe_url");
        if (list_unsubscribe_url->find_first_of("<> ") != std::string::npos)
            throw InputError("email: unsubscribe_url may not contain spaces or angle brackets");
    }

    std::string h;
    h += "From: " + format_address(from) + "\r\n";
    std::string to_line;
    for (const auto& r : to) to_line += (to_line.empty() ? "" : ",\r\n ") + format_address(r);
    h += "To: " + to_line + "\r\n";
    if (reply_to) h += "Reply-To: " + format_address(*reply_to) + "\r\n";
    h += "Subject: " + encode_header_text(subject) + "\r\n";
    h += "Date: " + rfc5322_date(date) + "\r\n";
    h += "Message-ID: <" + message_id + ">\r\n";
    if (list_unsubscribe_url) {
        h += "List-Unsubscribe: <" + *list_unsubscribe_url + ">\r\n";
        h += "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n";
    }
    h += "MIME-Version: 1.0\r\n";
    const std::string text_part = "Content-Type: text/plain; charset=utf-8\r\n"
                                  "Content-Transfer-Encoding: base64\r\n\r\n" +
                                  base64_lines(text);
    if (!html) return h + text_part;
    // The boundary is derived from the content, so it cannot occur in the base64 parts
    // (it contains '=_' which base64 never produces).
    std::string boundary = "=_aa_" + sha256_hex(message_id + text + *html).substr(0, 32);
    std::string body;
    body += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n\r\n";
    body += "This is a multi-part message in MIME format.\r\n";
    body += "--" + boundary + "\r\n" + text_part;
    body += "--" + boundary + "\r\n";
    body += "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n";
    body += base64_lines(*html);
    body += "--" + boundary + "--\r\n";
    return h + body;
}

}  // namespace artistsaid::plugins
