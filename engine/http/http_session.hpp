// One HTTP/1.1 connection of the HttpServer: reads requests with the server's limits,
// hands each to the application (inline or on the blocking pool), writes the response,
// and keeps the connection for the next request or closes it. A WebSocket upgrade on /ws
// turns the connection into a WebSocketSession.
// Thread-safety: every handler runs on the connection's strand.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <memory>
#include <optional>

#include "engine/http/http_application.hpp"

namespace artistsaid::http {

class HttpServer;

class HttpSession : public std::enable_shared_from_this<HttpSession> {
public:
    HttpSession(boost::asio::ip::tcp::socket&& socket, HttpServer& server);
    ~HttpSession();

    void start();
    /// Answers 503 and closes (the server is at max_connections).
    void refuse_busy();
    /// The server is stopping: close now if idle, else after the current response.
    void stop();

private:
    void wait_for_request();
    void read_header();
    void on_header(boost::beast::error_code ec);
    void read_body();
    void on_request(boost::beast::error_code ec);
    void dispatch(Request request);
    void open_websocket(Request request);
    void write(Response response, bool close);
    void refuse(unsigned status, const char* code, const std::string& message);
    void lingering_close();
    void drain();
    void close();

    HttpServer& server_;
    boost::beast::tcp_stream stream_;
    boost::beast::flat_buffer buffer_;
    std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
    std::shared_ptr<Response> response_;  // kept alive while async_write runs
    std::shared_ptr<Request> request_;    // the request being answered (for metrics)
    bool idle_ = false;       // waiting for the first byte of a request
    bool stopping_ = false;
    bool closed_ = false;
    bool counted_ = true;     // counts against max_connections
    std::size_t drained_ = 0; // bytes dropped by lingering_close()
};

/// A JSON error body {"error": {"code": …, "message": …}} with the given status.
Response json_error(unsigned status, const std::string& code, const std::string& message,
                    unsigned version = 11);

}  // namespace artistsaid::http
