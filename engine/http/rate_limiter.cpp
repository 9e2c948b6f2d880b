#include "engine/http/rate_limiter.hpp"

namespace artistsaid::http {
namespace {

// KEYS[1] the bucket; ARGV rate (tokens/s), burst. Tokens are kept in milli-tokens so the
// arithmetic stays integral. Returns 0 if a token was taken, else the milliseconds until
// one is available.
constexpr const char* kTokenBucket = R"lua(
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens, ts = tonumber(b[1]), tonumber(b[2])
if tokens == nil or ts == nil then tokens, ts = burst * 1000, now end
if now > ts then tokens = math.min(burst * 1000, tokens + (now - ts) * rate) end
local wait = 0
if tokens >= 1000 then
  tokens = tokens - 1000
else
  wait = math.ceil((1000 - tokens) / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'ts', math.max(now, ts))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return wait
)lua";

}  // namespace

RateLimiter::RateLimiter(std::string prefix, int rate_per_second, int burst)
    : prefix_(std::move(prefix)),
      rate_(std::max(1, rate_per_second)),
      burst_(std::max(1, burst)),
      script_("api_rate_limit", kTokenBucket) {}

std::optional<std::chrono::milliseconds> RateLimiter::take(queue::RedisConnection& conn,
                                                           const std::string& bucket) const {
    auto reply = script_.run(conn, {prefix_ + ":ratelimit:" + bucket},
                             {std::to_string(rate_), std::to_string(burst_)});
    queue::check_reply(reply, "taking a rate-limit token");
    long long wait = reply.view().integer();
    if (wait <= 0) return std::nullopt;
    return std::chrono::milliseconds(wait);
}

}  // namespace artistsaid::http
