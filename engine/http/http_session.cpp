#include "engine/http/http_session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include "engine/http/http_server.hpp"
#include "engine/http/websocket_session.hpp"

namespace artistsaid::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;

namespace {

constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
// After an error response with `Connection: close`, what the client still sends is read
// and dropped for this long (at most kLingerBytes), so it reads our response instead of a
// connection reset.
constexpr std::chrono::seconds kLinger{2};
constexpr std::size_t kLingerBytes = 4 * 1024 * 1024;

std::string path_of(const Request& request) {
    std::string_view target = request.target();
    auto q = target.find('?');
    return std::string(target.substr(0, q));
}

}  // namespace

Response json_error(unsigned status, const std::string& code, const std::string& message,
                    unsigned version) {
    Response res{static_cast<bhttp::status>(status), version};
    res.set(bhttp::field::content_type, "application/json");
    res.body() = nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump();
    return res;
}

HttpSession::HttpSession(net::ip::tcp::socket&& socket, HttpServer& server)
    : server_(server),
      stream_(std::move(socket)),
      buffer_(server.options().max_header_bytes + server.options().max_body_bytes + 65536) {}

HttpSession::~HttpSession() {
    if (counted_) server_.session_closed();
}

void HttpSession::start() {
    net::dispatch(stream_.get_executor(),
                  [self = shared_from_this()] { self->wait_for_request(); });
}

void HttpSession::refuse_busy() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
        self->write(json_error(503, "too_many_connections",
                               "the server has too many open connections; try again"),
                    true);
    });
}

void HttpSession::stop() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
        self->stopping_ = true;
        if (self->idle_) self->close();
    });
}

void HttpSession::wait_for_request() {
    if (stopping_ || server_.stopping()) return close();
    if (buffer_.size() > 0) return read_header();  // a pipelined request is already here
    idle_ = true;
    stream_.expires_after(server_.options().idle_timeout);
    stream_.async_read_some(
        buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
            self->idle_ = false;
            if (ec) return self->close();
            self->buffer_.commit(n);
            self->read_header();
        });
}

void HttpSession::read_header() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_.options().max_header_bytes));
    parser_->body_limit(server_.options().max_body_bytes);
    // One deadline for the whole request, header and body: it is not renewed per read.
    stream_.expires_after(server_.options().read_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                 self->on_header(ec);
                             });
}

void HttpSession::on_header(beast::error_code ec) {
    if (ec) return on_request(ec);
    if (auto length = parser_->content_length();
        length && *length > server_.options().max_body_bytes)
        return on_request(bhttp::error::body_limit);
    const auto& header = parser_->get();
    if (beast::iequals(header[bhttp::field::expect], "100-continue") && !parser_->is_done()) {
        net::async_write(stream_, net::buffer(kContinue, sizeof kContinue - 1),
                         [self = shared_from_this()](beast::error_code wec, std::size_t) {
                             if (wec) return self->close();
                             self->read_body();
                         });
        return;
    }
    read_body();
}

void HttpSession::read_body() {
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                          self->on_request(ec);
                      });
}

void HttpSession::on_request(beast::error_code ec) {
    if (ec) {
        if (ec == beast::error::timeout) {
            // tcp_stream closed the socket already: the client was too slow.
            server_.application().refused(408);
            return close();
        }
        if (ec == bhttp::error::end_of_stream || ec == net::error::eof ||
            ec == bhttp::error::partial_message || ec == net::error::operation_aborted ||
            ec == net::error::connection_reset)
            return close();
        if (ec == bhttp::error::body_limit || ec == bhttp::error::buffer_overflow)
            return refuse(413, "body_too_large",
                          "the request body is larger than " +
                              std::to_string(server_.options().max_body_bytes) + " bytes");
        if (ec == bhttp::error::header_limit)
            return refuse(431, "header_too_large",
                          "the request header is larger than " +
                              std::to_string(server_.options().max_header_bytes) + " bytes");
        if (ec.category() == beast::http::make_error_code(bhttp::error::bad_method).category())
            return refuse(400, "bad_request", "malformed HTTP request");
        return close();
    }
    dispatch(parser_->release());
}

void HttpSession::dispatch(Request request) {
    request_ = std::make_shared<Request>(std::move(request));
    auto& app = server_.application();
    if (beast::websocket::is_upgrade(*request_) && path_of(*request_) == "/ws" &&
        server_.live() != nullptr)
        return open_websocket(*request_);
    if (auto response = app.handle_inline(*request_)) return write(std::move(*response), false);
    auto self = shared_from_this();
    bool queued = server_.pool().submit([self, request = request_](std::size_t worker) {
        Response response;
        try {
            response = self->server_.application().handle(*request, worker);
        } catch (const std::exception&) {
            response = json_error(500, "internal", "internal error", request->version());
        }
        net::post(self->stream_.get_executor(),
                  [self, response = std::move(response)]() mutable {
                      self->write(std::move(response), false);
                  });
    });
    if (!queued) write(json_error(503, "overloaded", "the server is busy; try again"), true);
}

void HttpSession::open_websocket(Request request) {
    auto self = shared_from_this();
    bool queued = server_.pool().submit([self, request = std::move(request)](std::size_t worker) {
        std::variant<LiveFilter, Response> verdict;
        try {
            verdict = self->server_.application().open_websocket(request, worker);
        } catch (const std::exception&) {
            verdict = json_error(500, "internal", "internal error");
        }
        net::post(self->stream_.get_executor(), [self, verdict = std::move(verdict)]() mutable {
            if (auto* refusal = std::get_if<Response>(&verdict))
                return self->write(std::move(*refusal), true);
            if (self->stopping_ || self->server_.stopping())
                return self->write(json_error(503, "stopping", "the server is stopping"), true);
            self->server_.application().responded(*self->request_, 101);
            // The WebSocket session owns the connection (and its count) from here on.
            self->counted_ = false;
            auto ws = std::make_shared<WebSocketSession>(std::move(self->stream_), self->server_,
                                                         std::get<LiveFilter>(verdict));
            ws->accept(*self->request_);
        });
    });
    if (!queued) write(json_error(503, "overloaded", "the server is busy; try again"), true);
}

void HttpSession::write(Response response, bool close) {
    const bool keep = !close && request_ && request_->keep_alive() && !stopping_ &&
                      !server_.stopping();
    if (request_)
        server_.application().responded(*request_, response.result_int());
    response.version(request_ ? request_->version() : 11);
    response.keep_alive(keep);
    response.set(bhttp::field::server, "artistsaid");
    if (request_ && request_->method() == bhttp::verb::head) {
        response.prepare_payload();
        response.body().clear();
    } else {
        response.prepare_payload();
    }
    response_ = std::make_shared<Response>(std::move(response));
    stream_.expires_after(server_.options().write_timeout);
    bhttp::async_write(stream_, *response_,
                       [self = shared_from_this(), keep](beast::error_code ec, std::size_t) {
                           self->response_.reset();
                           if (ec) return self->close();
                           if (!keep) return self->lingering_close();
                           self->request_.reset();
                           self->wait_for_request();
                       });
}

void HttpSession::refuse(unsigned status, const char* code, const std::string& message) {
    server_.application().refused(status);
    request_.reset();
    write(json_error(status, code, message), true);
}

void HttpSession::lingering_close() {
    beast::error_code ec;
    stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
    if (ec) return close();
    stream_.expires_after(kLinger);
    drained_ = 0;
    drain();
}

void HttpSession::drain() {
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(65536),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                                self->drained_ += n;
                                if (ec || self->drained_ > kLingerBytes) return self->close();
                                self->drain();
                            });
}

void HttpSession::close() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ec;
    stream_.socket().shutdown(net::ip::tcp::socket::shutdown_both, ec);
    stream_.close();
}

}  // namespace artistsaid::http
