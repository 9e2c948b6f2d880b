#include "engine/http/curl_error.hpp"

#include <curl/curl.h>

#include "engine/core/logging.hpp"

namespace artistsaid::http {

std::string curl_code_name(int code) {
    switch (static_cast<CURLcode>(code)) {
        case CURLE_UNSUPPORTED_PROTOCOL: return "CURLE_UNSUPPORTED_PROTOCOL";
        case CURLE_URL_MALFORMAT: return "CURLE_URL_MALFORMAT";
        case CURLE_COULDNT_RESOLVE_PROXY: return "CURLE_COULDNT_RESOLVE_PROXY";
        case CURLE_COULDNT_RESOLVE_HOST: return "CURLE_COULDNT_RESOLVE_HOST";
        case CURLE_COULDNT_CONNECT: return "CURLE_COULDNT_CONNECT";
        case CURLE_WRITE_ERROR: return "CURLE_WRITE_ERROR";
        case CURLE_OPERATION_TIMEDOUT: return "CURLE_OPERATION_TIMEDOUT";
        case CURLE_SSL_CONNECT_ERROR: return "CURLE_SSL_CONNECT_ERROR";
        case CURLE_PEER_FAILED_VERIFICATION: return "CURLE_PEER_FAILED_VERIFICATION";
        case CURLE_GOT_NOTHING: return "CURLE_GOT_NOTHING";
        case CURLE_SEND_ERROR: return "CURLE_SEND_ERROR";
        case CURLE_RECV_ERROR: return "CURLE_RECV_ERROR";
        case CURLE_FILESIZE_EXCEEDED: return "CURLE_FILESIZE_EXCEEDED";
        case CURLE_ABORTED_BY_CALLBACK: return "CURLE_ABORTED_BY_CALLBACK";
        case CURLE_TOO_MANY_REDIRECTS: return "CURLE_TOO_MANY_REDIRECTS";
        case CURLE_LOGIN_DENIED: return "CURLE_LOGIN_DENIED";
        case CURLE_USE_SSL_FAILED: return "CURLE_USE_SSL_FAILED";
        case CURLE_AUTH_ERROR: return "CURLE_AUTH_ERROR";
        default: return "CURLcode " + std::to_string(code);
    }
}

void throw_from_curl(const CurlFailure& f) {
    const auto code = static_cast<CURLcode>(f.code);
    std::string text = f.what + ": " + curl_easy_strerror(code);
    if (!f.detail.empty() && f.detail != curl_easy_strerror(code)) text += " (" + f.detail + ")";
    text = logging::redact(text);
    using Outcome = TransportError::Outcome;
    switch (code) {
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
            throw InputError(text);
        default: break;
    }
    if (f.cancelled || code == CURLE_ABORTED_BY_CALLBACK)
        throw TransportError(text + ": cancelled", Outcome::kCancelled, f.code, false);
    if (f.body_limit_hit || code == CURLE_FILESIZE_EXCEEDED)
        throw TransportError(f.what + ": response body exceeds the size limit",
                             Outcome::kResponseTooLarge, f.code, false);
    const bool timed_out = code == CURLE_OPERATION_TIMEDOUT;
    // Failures that happen before a byte of the request leaves: nothing can have happened
    // upstream. Everything else after the request began is an unknown outcome.
    const bool before_send = code == CURLE_COULDNT_RESOLVE_HOST || code == CURLE_COULDNT_RESOLVE_PROXY ||
                             code == CURLE_COULDNT_CONNECT || code == CURLE_SSL_CONNECT_ERROR ||
                             code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE ||
                             code == CURLE_LOGIN_DENIED || code == CURLE_USE_SSL_FAILED;
    const Outcome outcome =
        (before_send || !f.request_sent) ? Outcome::kNotSent : Outcome::kOutcomeUnknown;
    throw TransportError(text, outcome, f.code, timed_out);
}

}  // namespace artistsaid::http
