// One WebSocket client of /ws: after the upgrade (authenticated by the application), it
// receives live updates (LiveUpdates) as JSON text messages, filtered by run or workflow.
// Messages from the client are read and ignored (the read keeps ping/pong and close
// working). A client that falls more than kMaxQueued messages behind is disconnected
// rather than buffered without bound.
// Thread-safety: every handler runs on the connection's strand; deliver() from any thread.
#pragma once

#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <deque>
#include <memory>
#include <string>

#include "engine/http/http_application.hpp"
#include "engine/http/live_updates.hpp"

namespace artistsaid::http {

class HttpServer;

class WebSocketSession : public LiveSubscriber,
                         public std::enable_shared_from_this<WebSocketSession> {
public:
    static constexpr std::size_t kMaxQueued = 1000;

    WebSocketSession(boost::beast::tcp_stream&& stream, HttpServer& server, LiveFilter filter);
    ~WebSocketSession() override;

    /// Completes the upgrade of `request`, then starts reading and delivering.
    void accept(const Request& request);
    void deliver(const std::shared_ptr<const std::string>& message, const std::string& run,
                 const std::string& workflow) override;
    /// The server is stopping: send a close frame.
    void stop();

private:
    void read();
    void send(std::shared_ptr<const std::string> message);
    void write_next();

    HttpServer& server_;
    boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
    LiveFilter filter_;
    boost::beast::flat_buffer in_;
    std::deque<std::shared_ptr<const std::string>> queue_;
    bool open_ = false;
};

}  // namespace artistsaid::http
