// The HTTP/1.1 server (Boost.Beast on Asio) behind `artistsaid serve`.
//
// Keep-alive connections; every limit of ServerOptions enforced: request body and header
// size (413, 431), a deadline for each request once it started (408 and close; a client
// that trickles bytes cannot hold a connection), an idle timeout between requests, a
// write timeout, and a maximum of open connections (503 beyond it). Malformed HTTP gets
// 400 and a closed connection, never a crash. Requests run on the BlockingPool, never on
// the Asio threads; a full pool answers 503.
//
// Shutdown (stop()): the acceptor closes, idle connections close, a request in progress
// gets its response with `Connection: close`, WebSockets get a close frame; after `grace`
// whatever is left is closed. Thread-safety: start() once, then stop() and the accessors
// from any thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <functional>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/http/blocking_pool.hpp"
#include "engine/http/http_application.hpp"
#include "engine/http/server_options.hpp"

namespace artistsaid::http {

class LiveUpdates;
class HttpSession;

class HttpServer {
public:
    /// `live` may be null (no /ws).
    HttpServer(ServerOptions options, HttpApplication& application, LiveUpdates* live);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    /// Binds (InputError if the address is bad, UnavailableError if it is taken) and starts
    /// the Asio threads.
    void start();
    /// The bound address (its port when options.port was 0).
    boost::asio::ip::tcp::endpoint local_endpoint() const { return endpoint_; }
    /// Stops accepting and closes connections as described above; returns when every Asio
    /// thread ended (at most about `grace` later).
    void stop(std::chrono::milliseconds grace);
    /// True if the event loop ran a posted no-op within `timeout` (the watchdog's proof of
    /// life).
    bool responsive(std::chrono::milliseconds timeout);

    int connections() const noexcept { return connections_.load(); }
    bool stopping() const noexcept { return stopping_.load(); }

    // For the sessions.
    const ServerOptions& options() const noexcept { return options_; }
    HttpApplication& application() noexcept { return application_; }
    BlockingPool& pool() noexcept { return pool_; }
    LiveUpdates* live() noexcept { return live_; }
    void session_opened(const std::shared_ptr<HttpSession>& session);
    void session_closed() noexcept { connections_.fetch_sub(1); }
    /// Registers a connection-owning object to be told of shutdown.
    void track(std::weak_ptr<void> session, std::function<void()> on_stop);

private:
    void accept();

    ServerOptions options_;
    HttpApplication& application_;
    LiveUpdates* live_;
    // Declared before io_: sessions destroyed with io_ still report their end here.
    std::atomic<int> connections_{0};
    std::atomic<bool> stopping_{false};
    std::mutex tracked_mutex_;
    std::vector<std::pair<std::weak_ptr<void>, std::function<void()>>> tracked_;
    // Destruction order matters: the pool's tasks post into io_, so pool_ is declared after
    // io_ and destroyed (joined) before it.
    boost::asio::io_context io_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::ip::tcp::endpoint endpoint_;
    BlockingPool pool_;
    std::vector<std::thread> threads_;
};

}  // namespace artistsaid::http
