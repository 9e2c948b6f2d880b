// One connection to Redis over hiredis: connect with a deadline, AUTH and SELECT from a
// redis:// URL, run commands and pipelines, and turn hiredis failures into engine errors
// (throw_from_redis is the only place that happens).
//
// Every call has a deadline: the socket timeout (command_timeout) bounds each reply;
// blocking commands pass their own, longer deadline. After an I/O error or a timeout the
// connection is unusable (hiredis leaves it in an error state) and reconnects on the next
// call. Thread-safety: none — one connection per thread; move-only.
#pragma once

#include <hiredis/hiredis.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace artistsaid::queue {

/// A parsed redis:// (or rediss://, unix://) URL.
struct RedisEndpoint {
    std::string host = "127.0.0.1";
    int port = 6379;
    std::string unix_path;      // set for unix:///path/to/socket
    std::string username;       // ACL user; empty for the default user
    std::string password;       // empty: no AUTH
    int db = 0;

    /// Throws InputError for a malformed URL (never echoing the password).
    static RedisEndpoint parse(std::string_view url);
};

/// A read-only view of a reply (or of one element of an array reply).
class ReplyView {
public:
    explicit ReplyView(const redisReply* r) : r_(r) {}

    bool is_nil() const { return r_->type == REDIS_REPLY_NIL; }
    bool is_array() const { return r_->type == REDIS_REPLY_ARRAY; }
    bool is_error() const { return r_->type == REDIS_REPLY_ERROR; }
    bool is_integer() const { return r_->type == REDIS_REPLY_INTEGER; }
    bool is_string() const {
        return r_->type == REDIS_REPLY_STRING || r_->type == REDIS_REPLY_STATUS;
    }

    long long integer() const;               // an integer reply, or a string holding one
    std::string_view str() const;            // string, status or error text
    std::string string() const { return std::string(str()); }
    size_t size() const { return is_array() ? r_->elements : 0; }
    ReplyView operator[](size_t i) const;    // element of an array reply (bounds-checked)

private:
    const redisReply* r_;
};

/// An owned reply.
class RedisReply {
public:
    explicit RedisReply(redisReply* r) : r_(r) {}
    ReplyView view() const { return ReplyView(r_.get()); }
    const redisReply* get() const { return r_.get(); }

private:
    struct Free {
        void operator()(redisReply* r) const { freeReplyObject(r); }
    };
    std::unique_ptr<redisReply, Free> r_;
};

class RedisConnection {
public:
    RedisConnection(RedisEndpoint endpoint, std::chrono::milliseconds connect_timeout,
                    std::chrono::milliseconds command_timeout);
    RedisConnection(RedisConnection&& other) noexcept;
    RedisConnection& operator=(RedisConnection&&) = delete;

    /// Runs one command; an error reply is returned as a reply (check is_error()).
    RedisReply command(const std::vector<std::string>& argv);
    RedisReply command(std::initializer_list<std::string_view> argv);

    /// Like command(), but the reply may take up to `block_for` longer (BLPOP and such).
    RedisReply blocking_command(const std::vector<std::string>& argv,
                                std::chrono::milliseconds block_for);

    /// Pipelining: queue commands, then read their replies in order.
    void append(const std::vector<std::string>& argv);
    RedisReply read_reply();

    /// Drops the socket; the next call reconnects.
    void reset();

    /// Wakes a call blocked on this connection from another thread (it fails with an
    /// UnavailableError and the connection reconnects on next use). Used to stop a
    /// fetcher blocked in BLPOP at shutdown. Safe to call from any thread.
    void interrupt();
    const RedisEndpoint& endpoint() const { return endpoint_; }

private:
    void ensure_connected();
    void set_timeout(std::chrono::milliseconds timeout);
    [[noreturn]] void fail(std::string_view doing);

    struct FreeContext {
        void operator()(redisContext* c) const { redisFree(c); }
    };
    RedisEndpoint endpoint_;
    std::chrono::milliseconds connect_timeout_;
    std::chrono::milliseconds command_timeout_;
    std::unique_ptr<redisContext, FreeContext> context_;
    std::atomic<int> fd_{-1};  // the socket, for interrupt() from another thread
};

/// The one translation from a failed hiredis context to an engine error: I/O errors and
/// timeouts become UnavailableError (exit 3) naming the server, never the password.
[[noreturn]] void throw_from_redis(const redisContext* context, const RedisEndpoint& endpoint,
                                   std::string_view doing);

/// Throws Error(kInternal) if `reply` is an error reply, naming what we were doing.
void check_reply(const RedisReply& reply, std::string_view doing);

}  // namespace artistsaid::queue
