// The one translation of libcurl's errors into ours (STYLE.md: one translation function per
// foreign library). Everything that talks through libcurl — the HTTP client, SMTP, S3 —
// calls throw_from_curl with the CURLcode and what it knows about the transfer, so callers
// see one error type that says whether the request may have had an effect.
#pragma once

#include <string>

#include "engine/core/error.hpp"

namespace artistsaid::http {

/// A request that got no (complete) response. `outcome()` says what the caller may assume:
///   kNotSent         the request never left (DNS, connect, TLS handshake, proxy): safe to retry
///   kOutcomeUnknown  it was sent, but no response arrived in time or the connection broke:
///                    the server may or may not have acted (reconcile, never retry blindly)
///   kResponseTooLarge the server answered, but its body exceeded the configured limit
///   kCancelled       the caller asked to stop (worker shutdown) before the response arrived
/// HTTP error statuses (4xx/5xx) are not TransportErrors: they are responses.
class TransportError : public UnavailableError {
public:
    enum class Outcome { kNotSent, kOutcomeUnknown, kResponseTooLarge, kCancelled };

    TransportError(const std::string& message, Outcome outcome, int curl_code, bool timed_out)
        : UnavailableError(message), outcome_(outcome), curl_code_(curl_code), timed_out_(timed_out) {}

    Outcome outcome() const noexcept { return outcome_; }
    /// True when the request may have taken effect upstream.
    bool outcome_unknown() const noexcept { return outcome_ == Outcome::kOutcomeUnknown; }
    bool timed_out() const noexcept { return timed_out_; }
    /// The CURLcode, for logs.
    int curl_code() const noexcept { return curl_code_; }

private:
    Outcome outcome_;
    int curl_code_;
    bool timed_out_;
};

/// What the caller knows about a failed transfer, beyond the CURLcode.
struct CurlFailure {
    int code = 0;                 // the CURLcode
    std::string what;             // "POST https://api.example.com/v1/x" — never with secrets
    std::string detail;           // CURLOPT_ERRORBUFFER text (redacted here again)
    bool request_sent = false;    // CURLINFO_REQUEST_SIZE > 0 (or, for SMTP, the DATA began)
    bool body_limit_hit = false;  // our write callback refused more bytes
    bool cancelled = false;       // our progress callback aborted on request
};

/// Throws the error a failed libcurl transfer means: InputError for a bad URL or an
/// unsupported scheme (the caller's input), TransportError otherwise. Never returns.
[[noreturn]] void throw_from_curl(const CurlFailure& failure);

/// The canonical name of a CURLcode ("CURLE_OPERATION_TIMEDOUT"), for messages.
std::string curl_code_name(int code);

}  // namespace artistsaid::http
