// The HTTP server's limits and timeouts (config keys http.*, see engine/core/config.cpp).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace artistsaid::http {

struct ServerOptions {
    std::string host = "127.0.0.1";
    unsigned short port = 8080;  // 0: any free port (tests)
    std::size_t max_body_bytes = 1024 * 1024;
    std::size_t max_header_bytes = 16 * 1024;
    /// A request, once its first byte arrived, must be complete within this: a client
    /// that sends one byte per second is cut off.
    std::chrono::milliseconds read_timeout{std::chrono::seconds(10)};
    /// A keep-alive connection with no request for this long is closed.
    std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
    /// Writing a response (or a WebSocket message) may take this long.
    std::chrono::milliseconds write_timeout{std::chrono::seconds(30)};
    /// Connections beyond this get 503 and are closed.
    int max_connections = 512;
    /// Threads running the Asio event loop (never blocked by PostgreSQL or Redis).
    int io_threads = 2;
    /// Threads running the blocking work (SQL, Redis, outbound calls).
    int workers = 8;
    /// Requests waiting for a worker beyond this get 503 at once.
    std::size_t max_queued = 1024;
};

/// "127.0.0.1:8080", "[::1]:8080" or ":8080" into host and port; InputError if malformed.
void parse_listen(const std::string& listen, ServerOptions& options);

}  // namespace artistsaid::http
