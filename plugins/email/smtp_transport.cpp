#include "plugins/email/smtp_transport.hpp"

#include <algorithm>
#include <cstring>

#include "engine/http/curl_error.hpp"
#include "engine/http/curl_handle.hpp"

namespace artistsaid::plugins {
namespace {

struct Upload {
    const std::string* data;
    std::size_t offset = 0;
};

std::size_t on_read(char* buffer, std::size_t size, std::size_t count, void* user) {
    auto* u = static_cast<Upload*>(user);
    std::size_t n = std::min(size * count, u->data->size() - u->offset);
    std::memcpy(buffer, u->data->data() + u->offset, n);
    u->offset += n;
    return n;
}

std::string host_of(const std::string& url) {
    auto start = url.find("://");
    start = start == std::string::npos ? 0 : start + 3;
    auto end = url.find('/', start);
    std::string host = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (auto at = host.rfind('@'); at != std::string::npos) host.erase(0, at + 1);
    return host;
}

template <typename T>
void set(CURL* h, CURLoption option, T value) {
    if (curl_easy_setopt(h, option, value) != CURLE_OK)
        throw Error(ErrorCode::kInternal, "curl_easy_setopt failed for SMTP");
}

}  // namespace

SmtpTransport::SmtpTransport(SmtpSettings settings) : settings_(std::move(settings)) {
    if (settings_.url.rfind("smtp://", 0) != 0 && settings_.url.rfind("smtps://", 0) != 0)
        throw InputError("email: the SMTP URL must start with smtp:// or smtps://");
}

MailReceipt SmtpTransport::send(const OutgoingMail& mail,
                                std::chrono::system_clock::time_point deadline) const {
    using namespace std::chrono;
    const std::string what = "SMTP to " + host_of(settings_.url);
    auto total = std::min(settings_.timeout, duration_cast<milliseconds>(deadline - system_clock::now()));
    if (total <= milliseconds(0))
        throw http::TransportError(what + ": the deadline passed before sending",
                                   http::TransportError::Outcome::kNotSent, CURLE_OPERATION_TIMEDOUT, true);
    http::CurlEasy easy = http::make_curl_easy();
    CURL* h = easy.get();
    char error_text[CURL_ERROR_SIZE] = {0};
    Upload upload{&mail.data};
    set(h, CURLOPT_URL, settings_.url.c_str());
    set(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    set(h, CURLOPT_NOSIGNAL, 1L);
    set(h, CURLOPT_ERRORBUFFER, error_text);
    set(h, CURLOPT_TIMEOUT_MS, static_cast<long>(total.count()));
    set(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min(settings_.connect_timeout, total).count()));
    set(h, CURLOPT_SSL_VERIFYPEER, 1L);
    set(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!settings_.ca_file.empty()) set(h, CURLOPT_CAINFO, settings_.ca_file.c_str());
    set(h, CURLOPT_USE_SSL, static_cast<long>(settings_.tls == SmtpSettings::Tls::kRequired ? CURLUSESSL_ALL
                                                                                              : CURLUSESSL_TRY));
    if (settings_.username) set(h, CURLOPT_USERNAME, settings_.username->c_str());
    if (settings_.password) set(h, CURLOPT_PASSWORD, settings_.password->c_str());
    const std::string from = "<" + mail.envelope_from + ">";
    set(h, CURLOPT_MAIL_FROM, from.c_str());
    http::CurlSlist rcpt;
    for (const auto& r : mail.recipients) http::slist_append(rcpt, "<" + r + ">");
    set(h, CURLOPT_MAIL_RCPT, rcpt.get());
    set(h, CURLOPT_UPLOAD, 1L);
    set(h, CURLOPT_READFUNCTION, &on_read);
    set(h, CURLOPT_READDATA, &upload);
    set(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(mail.data.size()));

    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        long reply = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply);
        // Refused credentials are configuration, not a passing fault.
        if (rc == CURLE_LOGIN_DENIED)
            throw SmtpRejected(what + " refused the login (" + std::to_string(reply) + ")",
                               reply >= 500 ? reply : 535);
        // A reply code means the server answered and refused: the mail was not accepted.
        if (reply >= 400 && reply < 600 && rc != CURLE_OPERATION_TIMEDOUT)
            throw SmtpRejected(what + " refused the mail: " + std::to_string(reply) + " " +
                                   (error_text[0] != '\0' ? error_text : curl_easy_strerror(rc)),
                               reply);
        http::CurlFailure failure;
        failure.code = rc;
        failure.what = what;
        failure.detail = error_text;
        failure.request_sent = upload.offset > 0;  // the DATA phase began
        http::throw_from_curl(failure);
    }
    return {"smtp", host_of(settings_.url)};
}

}  // namespace artistsaid::plugins
