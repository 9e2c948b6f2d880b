// A deliberately plain HTTP/1.1 client over POSIX sockets for the server's tests: it
// writes exactly the bytes a test asks for (malformed, trickled or oversized requests
// included), and every read has a deadline.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace artistsaid::test {

struct HttpReply {
    int status = 0;
    std::map<std::string, std::string> headers;  // names in lower case
    std::string body;
    std::string header(const std::string& lower_name) const {
        auto it = headers.find(lower_name);
        return it == headers.end() ? std::string() : it->second;
    }
};

/// One open TCP connection to 127.0.0.1:port.
class HttpConnection {
public:
    explicit HttpConnection(int port);
    ~HttpConnection();
    HttpConnection(const HttpConnection&) = delete;
    HttpConnection& operator=(const HttpConnection&) = delete;

    /// Sends bytes; false if the peer closed the connection (EPIPE/ECONNRESET).
    bool send(const std::string& bytes);
    /// Reads one response (Content-Length or close-delimited); nullopt if the connection
    /// closed (or `timeout` passed) before a whole response arrived.
    std::optional<HttpReply> read_reply(std::chrono::milliseconds timeout = std::chrono::seconds(30));
    /// True if the server closed the connection within `timeout` (reads return 0 or reset).
    bool closed_by_peer(std::chrono::milliseconds timeout);
    int fd() const { return fd_; }

private:
    int fd_ = -1;
    std::string buffered_;
};

/// Builds a request with Host, Content-Length and the given headers.
std::string make_request(const std::string& method, const std::string& target,
                         const std::vector<std::pair<std::string, std::string>>& headers = {},
                         const std::string& body = {}, bool close = false);

/// One request on a new connection.
HttpReply http_request(int port, const std::string& method, const std::string& target,
                       const std::vector<std::pair<std::string, std::string>>& headers = {},
                       const std::string& body = {});

}  // namespace artistsaid::test
