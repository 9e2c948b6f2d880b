#include "engine/queue/redis_connection.hpp"

#include <sys/socket.h>
#include <sys/time.h>

#include <charconv>
#include <cstring>

#include "engine/core/error.hpp"

namespace artistsaid::queue {
namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
    return tv;
}

std::string describe(const RedisEndpoint& e) {
    if (!e.unix_path.empty()) return "unix:" + e.unix_path;
    return e.host + ":" + std::to_string(e.port);
}

int parse_int(std::string_view text, std::string_view what) {
    int value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size())
        throw InputError("invalid " + std::string(what) + " '" + std::string(text) +
                         "' in the Redis URL");
    return value;
}

std::string percent_decode(std::string_view s) {
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
            i += 2;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

}  // namespace

RedisEndpoint RedisEndpoint::parse(std::string_view url) {
    RedisEndpoint e;
    if (url.empty()) throw InputError("no Redis configured: set ARTISTSAID_REDIS_URL or redis_url");
    if (url.rfind("unix://", 0) == 0) {
        std::string_view rest = url.substr(7);
        auto q = rest.find('?');
        e.unix_path = std::string(rest.substr(0, q));
        if (q != std::string_view::npos) {
            std::string_view query = rest.substr(q + 1);
            if (query.rfind("db=", 0) == 0) e.db = parse_int(query.substr(3), "database number");
        }
        return e;
    }
    if (url.rfind("rediss://", 0) == 0)
        throw InputError("rediss:// (TLS) is not supported by this build; use redis:// over a "
                         "private network or a unix socket");
    if (url.rfind("redis://", 0) != 0)
        throw InputError("the Redis URL must start with redis:// or unix://");
    std::string_view rest = url.substr(8);
    auto slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    if (slash != std::string_view::npos) {
        std::string_view db = rest.substr(slash + 1);
        if (!db.empty()) e.db = parse_int(db, "database number");
    }
    auto at = authority.rfind('@');
    if (at != std::string_view::npos) {
        std::string_view userinfo = authority.substr(0, at);
        authority = authority.substr(at + 1);
        auto colon = userinfo.find(':');
        if (colon == std::string_view::npos) {
            e.password = percent_decode(userinfo);  // redis://secret@host, as redis-cli reads it
        } else {
            e.username = percent_decode(userinfo.substr(0, colon));
            e.password = percent_decode(userinfo.substr(colon + 1));
        }
    }
    if (!authority.empty() && authority.front() == '[') {
        auto close = authority.find(']');
        if (close == std::string_view::npos) throw InputError("unclosed '[' in the Redis URL");
        e.host = std::string(authority.substr(1, close - 1));
        authority = authority.substr(close + 1);
        if (!authority.empty() && authority.front() == ':')
            e.port = parse_int(authority.substr(1), "port");
    } else {
        auto colon = authority.rfind(':');
        e.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) e.port = parse_int(authority.substr(colon + 1), "port");
    }
    if (e.host.empty()) e.host = "127.0.0.1";
    if (e.port <= 0 || e.port > 65535) throw InputError("the Redis port must be 1..65535");
    return e;
}

long long ReplyView::integer() const {
    if (r_->type == REDIS_REPLY_INTEGER) return r_->integer;
    if (r_->type == REDIS_REPLY_STRING) {
        long long v = 0;
        auto [end, ec] = std::from_chars(r_->str, r_->str + r_->len, v);
        if (ec == std::errc() && end == r_->str + r_->len) return v;
    }
    throw Error(ErrorCode::kInternal, "Redis reply is not an integer");
}

std::string_view ReplyView::str() const {
    if (r_->type == REDIS_REPLY_STRING || r_->type == REDIS_REPLY_STATUS ||
        r_->type == REDIS_REPLY_ERROR)
        return std::string_view(r_->str, r_->len);
    if (r_->type == REDIS_REPLY_NIL) return {};
    throw Error(ErrorCode::kInternal, "Redis reply is not a string");
}

ReplyView ReplyView::operator[](size_t i) const {
    if (!is_array() || i >= r_->elements)
        throw Error(ErrorCode::kInternal, "Redis reply has no element " + std::to_string(i));
    return ReplyView(r_->element[i]);
}

RedisConnection::RedisConnection(RedisEndpoint endpoint, std::chrono::milliseconds connect_timeout,
                                 std::chrono::milliseconds command_timeout)
    : endpoint_(std::move(endpoint)),
      connect_timeout_(connect_timeout),
      command_timeout_(command_timeout) {}

RedisConnection::RedisConnection(RedisConnection&& other) noexcept
    : endpoint_(std::move(other.endpoint_)),
      connect_timeout_(other.connect_timeout_),
      command_timeout_(other.command_timeout_),
      context_(std::move(other.context_)),
      fd_(other.fd_.exchange(-1)) {}

void RedisConnection::reset() {
    fd_ = -1;
    context_.reset();
}

void RedisConnection::interrupt() {
    int fd = fd_.load();
    if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
}

void RedisConnection::fail(std::string_view doing) {
    // Keep the broken context alive until its error text has been read.
    fd_ = -1;
    std::unique_ptr<redisContext, FreeContext> broken = std::move(context_);
    throw_from_redis(broken.get(), endpoint_, doing);
}

void RedisConnection::set_timeout(std::chrono::milliseconds timeout) {
    if (redisSetTimeout(context_.get(), to_timeval(timeout)) != REDIS_OK) fail("setting a timeout");
}

void RedisConnection::ensure_connected() {
    if (context_ && context_->err == 0) return;
    reset();
    redisContext* c =
        endpoint_.unix_path.empty()
            ? redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port,
                                      to_timeval(connect_timeout_))
            : redisConnectUnixWithTimeout(endpoint_.unix_path.c_str(), to_timeval(connect_timeout_));
    if (c == nullptr) throw UnavailableError("cannot allocate a Redis connection");
    context_.reset(c);
    if (c->err != 0) fail("connecting");
    fd_ = c->fd;
    if (endpoint_.unix_path.empty()) redisEnableKeepAlive(c);
    set_timeout(command_timeout_);
    if (!endpoint_.password.empty()) {
        std::vector<std::string> auth{"AUTH"};
        if (!endpoint_.username.empty()) auth.push_back(endpoint_.username);
        auth.push_back(endpoint_.password);
        RedisReply reply = command(auth);
        if (reply.view().is_error()) {
            reset();
            // The server's text ("WRONGPASS …") never contains the password itself.
            throw UnavailableError("Redis at " + describe(endpoint_) +
                                   " refused authentication: " + reply.view().string());
        }
    }
    if (endpoint_.db != 0) check_reply(command({"SELECT", std::to_string(endpoint_.db)}), "SELECT");
}

RedisReply RedisConnection::command(const std::vector<std::string>& argv) {
    ensure_connected();
    std::vector<const char*> args;
    std::vector<size_t> lens;
    args.reserve(argv.size());
    lens.reserve(argv.size());
    for (const auto& a : argv) {
        args.push_back(a.data());
        lens.push_back(a.size());
    }
    void* raw = redisCommandArgv(context_.get(), static_cast<int>(args.size()), args.data(),
                                 lens.data());
    if (raw == nullptr) fail(argv.empty() ? "sending a command" : argv[0]);
    return RedisReply(static_cast<redisReply*>(raw));
}

RedisReply RedisConnection::command(std::initializer_list<std::string_view> argv) {
    std::vector<std::string> args;
    args.reserve(argv.size());
    for (auto a : argv) args.emplace_back(a);
    return command(args);
}

RedisReply RedisConnection::blocking_command(const std::vector<std::string>& argv,
                                             std::chrono::milliseconds block_for) {
    ensure_connected();
    set_timeout(command_timeout_ + block_for);
    RedisReply reply = command(argv);
    set_timeout(command_timeout_);
    return reply;
}

void RedisConnection::append(const std::vector<std::string>& argv) {
    ensure_connected();
    std::vector<const char*> args;
    std::vector<size_t> lens;
    for (const auto& a : argv) {
        args.push_back(a.data());
        lens.push_back(a.size());
    }
    if (redisAppendCommandArgv(context_.get(), static_cast<int>(args.size()), args.data(),
                               lens.data()) != REDIS_OK)
        fail("queueing a pipelined command");
}

RedisReply RedisConnection::read_reply() {
    if (!context_) throw UnavailableError("Redis connection lost during a pipeline");
    void* raw = nullptr;
    if (redisGetReply(context_.get(), &raw) != REDIS_OK || raw == nullptr)
        fail("reading a pipelined reply");
    return RedisReply(static_cast<redisReply*>(raw));
}

void throw_from_redis(const redisContext* context, const RedisEndpoint& endpoint,
                      std::string_view doing) {
    std::string reason = context == nullptr ? "no connection" : context->errstr;
    if (context != nullptr && context->err == REDIS_ERR_IO && reason.empty())
        reason = std::strerror(errno);
    if (context != nullptr && context->err == REDIS_ERR_IO &&
        (errno == EAGAIN || errno == EWOULDBLOCK || reason.find("Resource temporarily") != std::string::npos))
        reason = "timed out";
    throw UnavailableError("Redis at " + describe(endpoint) + " unavailable (" +
                           std::string(doing) + "): " + reason);
}

void check_reply(const RedisReply& reply, std::string_view doing) {
    if (reply.view().is_error())
        throw Error(ErrorCode::kInternal,
                    "Redis refused " + std::string(doing) + ": " + reply.view().string());
}

}  // namespace artistsaid::queue
