#include "tests/integration/http/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace artistsaid::test {

HttpConnection::HttpConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        throw std::runtime_error(std::string("connect failed: ") + std::strerror(errno));
}

HttpConnection::~HttpConnection() {
    if (fd_ >= 0) ::close(fd_);
}

bool HttpConnection::send(const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        sent += static_cast<std::size_t>(n);
    }
    return true;
}

namespace {

// Reads what is available within `deadline`; 0 on EOF, -1 on error or timeout.
ssize_t read_some(int fd, std::string& into, std::chrono::steady_clock::time_point deadline) {
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return -1;
        pollfd p{fd, POLLIN, 0};
        int r = ::poll(&p, 1, static_cast<int>(left.count()));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        char buf[65536];
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n > 0) into.append(buf, static_cast<std::size_t>(n));
        return n;
    }
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

}  // namespace

std::optional<HttpReply> HttpConnection::read_reply(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto end = buffered_.find("\r\n\r\n");
        if (end != std::string::npos) {
            HttpReply reply;
            std::string head = buffered_.substr(0, end);
            std::size_t line_end = head.find("\r\n");
            std::string status_line = head.substr(0, line_end);
            if (status_line.size() < 12) return std::nullopt;
            reply.status = std::stoi(status_line.substr(9, 3));
            std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
            while (pos < head.size()) {
                auto next = head.find("\r\n", pos);
                std::string line = head.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
                auto colon = line.find(':');
                if (colon != std::string::npos) {
                    std::string value = line.substr(colon + 1);
                    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
                    reply.headers[lower(line.substr(0, colon))] = value;
                }
                if (next == std::string::npos) break;
                pos = next + 2;
            }
            if (reply.status == 100) {  // interim response
                buffered_.erase(0, end + 4);
                continue;
            }
            std::size_t body_start = end + 4;
            if (reply.headers.count("content-length")) {
                std::size_t length = std::stoul(reply.headers["content-length"]);
                while (buffered_.size() < body_start + length)
                    if (read_some(fd_, buffered_, deadline) <= 0) return std::nullopt;
                reply.body = buffered_.substr(body_start, length);
                buffered_.erase(0, body_start + length);
            } else {
                while (read_some(fd_, buffered_, deadline) > 0) {
                }
                reply.body = buffered_.substr(body_start);
                buffered_.clear();
            }
            return reply;
        }
        if (read_some(fd_, buffered_, deadline) <= 0) return std::nullopt;
    }
}

bool HttpConnection::closed_by_peer(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd p{fd_, POLLIN, 0};
        int r = ::poll(&p, 1, static_cast<int>(left.count()));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        char buf[4096];
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n == 0) return true;
        if (n < 0) return errno == ECONNRESET;
        // Data (an error response) before the close: keep reading.
    }
}

std::string make_request(const std::string& method, const std::string& target,
                         const std::vector<std::pair<std::string, std::string>>& headers,
                         const std::string& body, bool close) {
    std::string out = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (const auto& [k, v] : headers) out += k + ": " + v + "\r\n";
    if (!body.empty() || method == "POST" || method == "PUT")
        out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    if (close) out += "Connection: close\r\n";
    return out + "\r\n" + body;
}

HttpReply http_request(int port, const std::string& method, const std::string& target,
                       const std::vector<std::pair<std::string, std::string>>& headers,
                       const std::string& body) {
    HttpConnection c(port);
    if (!c.send(make_request(method, target, headers, body, true)))
        throw std::runtime_error("sending the request failed");
    auto reply = c.read_reply();
    if (!reply) throw std::runtime_error("no response to " + method + " " + target);
    return *reply;
}

}  // namespace artistsaid::test
