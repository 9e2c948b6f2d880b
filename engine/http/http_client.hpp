// The process's one outbound HTTP client, over libcurl.
//
// Every request has a deadline (connect timeout, total timeout, and an optional absolute
// deadline), a response body limit, TLS verification on (peer and host), proxies from the
// environment (http_proxy / https_proxy / no_proxy, as curl reads them; loopback never goes
// through a proxy), only http and https, and no redirects unless the request asks.
//
// Concurrency design: each call runs on the caller's thread with its own easy handle; all
// handles share one CURLSH holding the connection cache, DNS cache and TLS sessions, each
// guarded by its own mutex that libcurl holds only while it touches the cache (never during
// I/O). So concurrent calls never wait for each other's network time and connections are
// reused across calls and threads. Why not a multi-handle event loop thread: our callers
// (step plugins, gateways) run on worker processor threads that need the result before
// they can go on, so a loop thread would add a hand-off and a second failure domain
// without freeing any thread; a worker's concurrency is its processor count.
//
// Errors: a response with any status is returned (4xx/5xx are responses, not exceptions);
// a request without a complete response throws TransportError saying whether it was never
// sent or its outcome is unknown (curl_error.hpp). A malformed URL is an InputError.
//
// Thread-safety: send() may be called from any number of threads at once.
#pragma once

#include <memory>

#include "engine/http/http_request.hpp"
#include "engine/http/http_response.hpp"

namespace artistsaid::http {

class HttpClient {
public:
    HttpClient();
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    /// The process-wide client (one connection cache for everything).
    static HttpClient& shared();

    /// Sends the request and reads the whole response (within the request's limits).
    HttpResponse send(const HttpRequest& request) const;

    /// Connections opened so far by this client (for tests and metrics: reuse keeps it low).
    long connections_opened() const noexcept;

private:
    struct Shared;
    std::unique_ptr<Shared> shared_;
};

}  // namespace artistsaid::http
