// What the HTTP server serves: the server (http_server.hpp) owns sockets, limits and
// threads; an HttpApplication decides what each request gets. Kept small so the server
// can be tested with any application and the application without sockets.
#pragma once

#include <boost/beast/http.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <variant>

namespace artistsaid::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

/// Which live updates a WebSocket client wants (empty: all).
struct LiveFilter {
    std::string run;
    std::string workflow;
    std::string protocol;  // the subprotocol to answer with (the one the key came in), if any
};

class HttpApplication {
public:
    virtual ~HttpApplication() = default;

    /// A response that needs no blocking work (e.g. /healthz), answered on the Asio thread;
    /// nullopt sends the request to handle() on a worker.
    virtual std::optional<Response> handle_inline(const Request& request) = 0;
    /// Everything else, on a worker of the blocking pool (`worker` is its index).
    virtual Response handle(const Request& request, std::size_t worker) = 0;
    /// A WebSocket upgrade: the filter if the client may subscribe, else the refusal.
    virtual std::variant<LiveFilter, Response> open_websocket(const Request& request,
                                                              std::size_t worker) = 0;
    /// Told of every response written (for metrics); must not block.
    virtual void responded(const Request& request, unsigned status) = 0;
    /// Told when the server itself refused a request before any route saw it (limits,
    /// malformed HTTP, overload); must not block.
    virtual void refused(unsigned status) = 0;
};

}  // namespace artistsaid::http
