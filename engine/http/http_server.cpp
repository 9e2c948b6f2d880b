#include "engine/http/http_server.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <spdlog/spdlog.h>

#include <future>

#include "engine/core/error.hpp"
#include "engine/http/http_session.hpp"

namespace artistsaid::http {

namespace net = boost::asio;
using tcp = net::ip::tcp;

HttpServer::HttpServer(ServerOptions options, HttpApplication& application, LiveUpdates* live)
    : options_(std::move(options)),
      application_(application),
      live_(live),
      io_(std::max(1, options_.io_threads)),
      acceptor_(io_),
      pool_(static_cast<std::size_t>(std::max(1, options_.workers)), options_.max_queued) {}

HttpServer::~HttpServer() { stop(std::chrono::milliseconds(0)); }

void HttpServer::start() {
    boost::system::error_code ec;
    auto address = net::ip::make_address(options_.host, ec);
    if (ec) throw InputError("cannot listen on '" + options_.host + "': not an IP address");
    tcp::endpoint endpoint(address, options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec)
        throw UnavailableError("cannot listen on " + options_.host + ":" +
                               std::to_string(options_.port) + ": " + ec.message());
    endpoint_ = acceptor_.local_endpoint();
    accept();
    auto guard = std::make_shared<net::executor_work_guard<net::io_context::executor_type>>(
        io_.get_executor());
    for (int i = 0; i < std::max(1, options_.io_threads); ++i)
        threads_.emplace_back([this, guard] {
            for (;;) {
                try {
                    io_.run();
                    return;
                } catch (const std::exception& e) {
                    // A handler threw: log it and keep serving the other connections.
                    spdlog::error("http event loop: {}", e.what());
                }
            }
        });
}

void HttpServer::accept() {
    acceptor_.async_accept(net::make_strand(io_), [this](boost::system::error_code ec,
                                                         tcp::socket socket) {
        if (!acceptor_.is_open()) return;
        if (ec) {
            // Out of file descriptors and such: pause briefly rather than spin.
            spdlog::warn("accept failed: {}", ec.message());
            auto timer = std::make_shared<net::steady_timer>(io_, std::chrono::milliseconds(100));
            timer->async_wait([this, timer](boost::system::error_code) {
                if (acceptor_.is_open()) accept();
            });
            return;
        }
        int open = connections_.fetch_add(1) + 1;
        auto session = std::make_shared<HttpSession>(std::move(socket), *this);
        if (open > options_.max_connections || stopping_) {
            application_.refused(503);
            session->refuse_busy();
        } else {
            session_opened(session);
            session->start();
        }
        accept();
    });
}

void HttpServer::session_opened(const std::shared_ptr<HttpSession>& session) {
    std::weak_ptr<HttpSession> weak = session;
    track(session, [weak] {
        if (auto s = weak.lock()) s->stop();
    });
}

void HttpServer::track(std::weak_ptr<void> session, std::function<void()> on_stop) {
    std::lock_guard lock(tracked_mutex_);
    if (tracked_.size() > 2 * static_cast<std::size_t>(options_.max_connections) + 16)
        std::erase_if(tracked_, [](const auto& t) { return t.first.expired(); });
    tracked_.emplace_back(std::move(session), std::move(on_stop));
}

bool HttpServer::responsive(std::chrono::milliseconds timeout) {
    auto ran = std::make_shared<std::promise<void>>();
    auto done = ran->get_future();
    net::post(io_, [ran] { ran->set_value(); });
    return done.wait_for(timeout) == std::future_status::ready;
}

void HttpServer::stop(std::chrono::milliseconds grace) {
    if (!stopping_.exchange(true)) {
        net::post(io_, [this] {
            boost::system::error_code ec;
            acceptor_.close(ec);
        });
        std::vector<std::function<void()>> callbacks;
        {
            std::lock_guard lock(tracked_mutex_);
            for (auto& [weak, on_stop] : tracked_)
                if (!weak.expired()) callbacks.push_back(on_stop);
            tracked_.clear();
        }
        for (auto& f : callbacks) f();
        auto deadline = std::chrono::steady_clock::now() + grace;
        while (connections_.load() > 0 && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        if (connections_.load() > 0)
            spdlog::warn("closing {} connection(s) still open after the grace period",
                         connections_.load());
    }
    io_.stop();
    for (auto& t : threads_)
        if (t.joinable()) t.join();
    threads_.clear();
    pool_.stop();
}

}  // namespace artistsaid::http
