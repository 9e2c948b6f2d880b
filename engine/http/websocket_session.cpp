#include "engine/http/websocket_session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include "engine/http/http_server.hpp"

namespace artistsaid::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

WebSocketSession::WebSocketSession(beast::tcp_stream&& stream, HttpServer& server,
                                   LiveFilter filter)
    : server_(server), ws_(std::move(stream)), filter_(std::move(filter)) {}

WebSocketSession::~WebSocketSession() { server_.session_closed(); }

void WebSocketSession::accept(const Request& request) {
    beast::get_lowest_layer(ws_).expires_never();  // the websocket timeouts take over
    auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
    timeouts.handshake_timeout = server_.options().read_timeout;
    // A subscriber sends nothing, so idleness is measured with pings: after half of
    // http.idle_timeout without a byte from the client Beast pings it, and a client that
    // has not answered (or finished a frame it started) by the end is cut off.
    timeouts.idle_timeout = server_.options().idle_timeout;
    timeouts.keep_alive_pings = true;
    ws_.set_option(timeouts);
    ws_.set_option(websocket::stream_base::decorator(
        [protocol = filter_.protocol](websocket::response_type& res) {
            res.set(beast::http::field::server, "artistsaid");
            if (!protocol.empty()) res.set(beast::http::field::sec_websocket_protocol, protocol);
        }));
    ws_.read_message_max(64 * 1024);
    ws_.async_accept(request, [self = shared_from_this()](beast::error_code ec) {
        if (ec) return;
        self->open_ = true;
        std::weak_ptr<WebSocketSession> weak = self;
        self->server_.track(self, [weak] {
            if (auto s = weak.lock()) s->stop();
        });
        if (self->server_.live() != nullptr) self->server_.live()->add(self);
        nlohmann::json hello = {{"kind", "subscribed"},
                                {"run", self->filter_.run},
                                {"workflow", self->filter_.workflow}};
        self->send(std::make_shared<const std::string>(hello.dump()));
        self->read();
    });
}

void WebSocketSession::read() {
    ws_.async_read(in_, [self = shared_from_this()](beast::error_code ec, std::size_t n) {
        if (ec) {
            self->open_ = false;
            return;
        }
        self->in_.consume(n);
        self->read();
    });
}

void WebSocketSession::deliver(const std::shared_ptr<const std::string>& message,
                               const std::string& run, const std::string& workflow) {
    if (!filter_.run.empty() && filter_.run != run) return;
    if (!filter_.workflow.empty() && filter_.workflow != workflow) return;
    net::post(ws_.get_executor(), [self = shared_from_this(), message] { self->send(message); });
}

void WebSocketSession::send(std::shared_ptr<const std::string> message) {
    if (!open_) return;
    if (queue_.size() >= kMaxQueued) {
        open_ = false;
        beast::get_lowest_layer(ws_).close();
        return;
    }
    queue_.push_back(std::move(message));
    if (queue_.size() == 1) write_next();
}

void WebSocketSession::write_next() {
    ws_.text(true);
    ws_.async_write(net::buffer(*queue_.front()),
                    [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) {
                            self->open_ = false;
                            self->queue_.clear();
                            return;
                        }
                        self->queue_.pop_front();
                        if (!self->queue_.empty()) self->write_next();
                    });
}

void WebSocketSession::stop() {
    net::post(ws_.get_executor(), [self = shared_from_this()] {
        if (!self->open_) return;
        self->open_ = false;
        self->ws_.async_close(websocket::close_code::going_away, [self](beast::error_code) {});
    });
}

}  // namespace artistsaid::http
