#include "engine/queue/queue_scripts.hpp"

namespace artistsaid::queue::detail {
namespace {

// Shared by every script. KEYS[1] is the queue's base key "{prefix:queue}"; every key a
// script touches starts with it, so they all share one hash tag (one Redis Cluster slot).
//
// Ready jobs wait in one list per priority, {base}:ready:0 … :9, popped from 9 down: a
// list push/pop is much cheaper than a sorted set, and FIFO within a level comes free.
//
// Job hash fields (kept few: every field is work on the hot path):
//   j the job as the client packed it: type, retry policy
//   "max_attempts:base_delay_ms:max_delay_ms" and payload, separated by \31 (the script
//   only ever reads the retry policy's first number); pr priority (0-9), st state
//   (ready|delayed|parked|leased|dead),
//   ea enqueued at (ms); set when used: a deliveries so far, uk unique key, ck concurrency
//   key, rk rate key, rr 1 if the job holds a reserved rate token, e error history (JSON
//   array), la leased at (ms), da died at (ms).
//
// Performance rule: on per-job paths, pass only strings to redis.call. Redis formats a Lua
// number with "%.17g" (printf's floating-point path) — measured at ~10% of Redis's time.
constexpr const char* kPrelude = R"lua(
local base = KEYS[1]
local now, now_str
do
  local t = redis.call('TIME')
  local ms = string.format('%03d', math.floor(tonumber(t[2]) / 1000))
  now_str = t[1] .. ms
  now = tonumber(now_str)
end
-- Integers as strings through C's %d, not Redis's floating-point %.17g.
local function num_str(n) return string.format('%d', n) end
local function jkey(id) return base .. ':job:' .. id end
local function rkey(pr) return base .. ':ready:' .. pr end
local function to_ready(id, pr, front)
  if front then redis.call('LPUSH', rkey(pr), id) else redis.call('RPUSH', rkey(pr), id) end
  redis.call('HSET', jkey(id), 'st', 'ready')
end
local function wake(n)
  local w = base .. ':wake'
  local have = redis.call('LLEN', w)
  local want = math.min(n, 16) - have
  for i = 1, want do redis.call('LPUSH', w, '1') end
end
-- A job with concurrency key `ck` left the running state: free its slot and let the
-- longest-parked job go (to the front of its priority).
local function release_slot(ck)
  if not ck or ck == '' then return end
  local n = redis.call('HINCRBY', base .. ':ccount', ck, -1)
  if n <= 0 then redis.call('HDEL', base .. ':ccount', ck) end
  local pk = base .. ':parked:' .. ck
  local next_id = redis.call('LPOP', pk)
  if next_id then
    local pr = redis.call('HGET', jkey(next_id), 'pr')
    if pr then to_ready(next_id, pr, true); wake(1) end
  end
  if redis.call('LLEN', pk) == 0 then redis.call('SREM', base .. ':parked_keys', ck) end
end
local function release_unique(id, uk)
  if uk and uk ~= '' and redis.call('HGET', base .. ':unique', uk) == id then
    redis.call('HDEL', base .. ':unique', uk)
  end
end
local function push_error(id, entry)
  local k = jkey(id)
  local raw = redis.call('HGET', k, 'e')
  local list = {}
  if raw and raw ~= '' then list = cjson.decode(raw) end
  table.insert(list, cjson.decode(entry))
  while #list > 25 do table.remove(list, 1) end
  redis.call('HSET', k, 'e', cjson.encode(list))
end
local function max_attempts(j) return tonumber(string.match(j, '\31(%d+):')) end
local function to_dead(id)
  local k = jkey(id)
  redis.call('ZADD', base .. ':dead', now_str, id)
  redis.call('HSET', k, 'st', 'dead', 'da', now_str)
  redis.call('HINCRBY', base .. ':stats', 'failed', 1)
  release_unique(id, redis.call('HGET', k, 'uk'))
end
-- Removes a job from wherever it waits (ready, delayed, parked); O(n) for lists, which
-- only cancellation and a rare late ack need.
local function unlink_waiting(id, st, pr, ck)
  if st == 'ready' and pr then redis.call('LREM', rkey(pr), 1, id)
  elseif st == 'delayed' then redis.call('ZREM', base .. ':delayed', id)
  elseif st == 'parked' and ck then
    local pk = base .. ':parked:' .. ck
    redis.call('LREM', pk, 0, id)
    if redis.call('LLEN', pk) == 0 then redis.call('SREM', base .. ':parked_keys', ck) end
  end
end
)lua";

// ARGV: n, then per job either
//   P, id, body                                       (P: priority digit 0-9; runs now,
//                                                      no unique/concurrency/rate key)
//   'x', id, body, priority, run_at ms, unique key, concurrency key, rate key
// where body is the packed job (type \31 retry policy \31 payload). The short form keeps
// the common case to three arguments.
// Returns the duplicates only, flat: 0-based index of the job in this call, the id of
// the pending or running job with the same unique key (returned instead of a new job).
constexpr const char* kEnqueue = R"lua(
local n = tonumber(ARGV[1])
local out = {}
local ready = {}
local added, readied = 0, 0
local a = 2
for i = 0, n - 1 do
  local shape, id, body = ARGV[a], ARGV[a + 1], ARGV[a + 2]
  local pr, run_at, uk, ck, rk = shape, '0', '', '', ''
  if shape == 'x' then
    pr, run_at, uk, ck, rk = ARGV[a + 3], ARGV[a + 4], ARGV[a + 5], ARGV[a + 6], ARGV[a + 7]
    a = a + 8
  else
    a = a + 3
  end
  local dup = nil
  if uk ~= '' then
    local cur = redis.call('HGET', base .. ':unique', uk)
    if cur and redis.call('EXISTS', jkey(cur)) == 1 then dup = cur end
  end
  if dup then
    out[#out + 1] = i
    out[#out + 1] = dup
  else
    local st = 'ready'
    if run_at ~= '0' and tonumber(run_at) > now then st = 'delayed' end
    local k = jkey(id)
    redis.call('HSET', k, 'j', body, 'pr', pr, 'st', st, 'ea', now_str)
    if uk ~= '' then
      redis.call('HSET', base .. ':unique', uk, id)
      redis.call('HSET', k, 'uk', uk)
    end
    if ck ~= '' then redis.call('HSET', k, 'ck', ck) end
    if rk ~= '' then redis.call('HSET', k, 'rk', rk) end
    if st == 'delayed' then
      redis.call('ZADD', base .. ':delayed', run_at, id)
    else
      local list = ready[pr]
      if not list then list = {}; ready[pr] = list end
      list[#list + 1] = id
      readied = readied + 1
    end
    added = added + 1
  end
end
for pr, list in pairs(ready) do
  for i = 1, #list, 4000 do
    redis.call('RPUSH', rkey(pr), unpack(list, i, math.min(i + 3999, #list)))
  end
end
if added > 0 then redis.call('HINCRBY', base .. ':stats', 'enqueued', num_str(added)) end
if readied > 0 then wake(readied) elseif added > 0 then wake(1) end
return out
)lua";

// Token bucket per rate key, in milli-tokens so the arithmetic stays integral.
// Config "rate:period_ms:burst" in {base}:rlimits. A job that finds no token reserves the
// next one (the bucket goes negative) and waits exactly until then, so waiting jobs never
// spin and never wake up only to find the token taken.
constexpr const char* kTakeToken = R"lua(
local function take_token(rk, now)
  local cfg = redis.call('HGET', base .. ':rlimits', rk)
  if not cfg then return 0 end
  local rate, period, burst = string.match(cfg, '^(%d+):(%d+):(%d+)$')
  rate, period, burst = tonumber(rate), tonumber(period), tonumber(burst)
  local bk = base .. ':rbucket:' .. rk
  local b = redis.call('HMGET', bk, 'tk', 'ts')
  local tokens, ts = tonumber(b[1]), tonumber(b[2])
  if not tokens then tokens, ts = burst * 1000, now end
  if now > ts then
    tokens = math.min(burst * 1000, tokens + math.floor((now - ts) * rate * 1000 / period))
    ts = now
  end
  tokens = tokens - 1000
  redis.call('HSET', bk, 'tk', tokens, 'ts', ts)
  redis.call('PEXPIRE', bk, math.floor(period * (burst + 1) + 60000 + math.max(0, -tokens) * period / rate))
  if tokens >= 0 then return 0 end
  return math.ceil(-tokens * period / (rate * 1000))
end
)lua";

// ARGV: max jobs (0: only reap and promote), lease ms.
// Reaps expired leases, promotes due delayed jobs, then leases up to `max` ready jobs,
// honouring pause, concurrency limits (over-limit jobs park until a slot frees) and rate
// limits (over-limit jobs wait in the delayed set for their reserved token).
// Returns {jobs, wait_ms}: jobs flat as id, packed job, attempt, enqueued_at, errors;
// wait_ms is how long until the next delayed
// job or lease expiry is due (-1: none), so an idle fetcher can block exactly that long.
constexpr const char* kFetch = R"lua(
local max, lease_ms = tonumber(ARGV[1]), tonumber(ARGV[2])
local leased_key, delayed_key = base .. ':leased', base .. ':delayed'

local expired = redis.call('ZRANGEBYSCORE', leased_key, '-inf', now_str, 'LIMIT', 0, 500)
for _, id in ipairs(expired) do
  redis.call('ZREM', leased_key, id)
  local f = redis.call('HMGET', jkey(id), 'a', 'j', 'pr', 'ck')
  release_slot(f[4])
  if f[1] then
    local entry = cjson.encode({attempt = tonumber(f[1]), at = now,
      error = 'lease expired: the worker died or hung', kind = 'lease_expired'})
    push_error(id, entry)
    if tonumber(f[1]) >= max_attempts(f[2]) then to_dead(id) else to_ready(id, f[3], true) end
  end
end

local due = redis.call('ZRANGEBYSCORE', delayed_key, '-inf', now_str, 'LIMIT', 0, 1000)
for _, id in ipairs(due) do
  redis.call('ZREM', delayed_key, id)
  local pr = redis.call('HGET', jkey(id), 'pr')
  if pr then to_ready(id, pr, false) end
end

local function next_wait()
  local w = -1
  for _, k in ipairs({delayed_key, leased_key}) do
    local first = redis.call('ZRANGE', k, 0, 0, 'WITHSCORES')
    if first[2] then
      local d = math.max(0, tonumber(first[2]) - now)
      if w < 0 or d < w then w = d end
    end
  end
  return w
end

if max == 0 or redis.call('EXISTS', base .. ':paused') == 1 then return {{}, next_wait()} end

local jobs, leases = {}, {}
local expiry = string.format('%.0f', now + lease_ms)
local count, popped = 0, 0
for pr = 9, 0, -1 do
  while count < max and popped < max * 4 do
    local batch = redis.call('LPOP', rkey(pr), num_str(max - count))
    if not batch then break end
    for _, id in ipairs(batch) do
      popped = popped + 1
      local k = jkey(id)
      local f = redis.call('HMGET', k, 'j', 'ea', 'e', 'ck', 'rk', 'rr', 'a')
      if f[1] then
        local ck, rk = f[4], f[5]
        local admitted = true
        if ck then
          local lim = redis.call('HGET', base .. ':climits', ck)
          if lim and tonumber(redis.call('HGET', base .. ':ccount', ck) or '0') >= tonumber(lim) then
            redis.call('RPUSH', base .. ':parked:' .. ck, id)
            redis.call('SADD', base .. ':parked_keys', ck)
            redis.call('HSET', k, 'st', 'parked')
            admitted = false
          end
        end
        if admitted and rk and f[6] ~= '1' then
          local wait = take_token(rk, now)
          if wait > 0 then
            redis.call('ZADD', delayed_key, string.format('%.0f', now + wait), id)
            redis.call('HSET', k, 'st', 'delayed', 'rr', '1')
            admitted = false
          end
        end
        if admitted then
          if ck then redis.call('HINCRBY', base .. ':ccount', ck, '1') end
          local a = tonumber(f[7] or '0') + 1
          redis.call('HSET', k, 'a', num_str(a), 'st', 'leased', 'la', now_str)
          if f[6] == '1' then redis.call('HDEL', k, 'rr') end
          leases[#leases + 1] = expiry
          leases[#leases + 1] = id
          local n = #jobs
          jobs[n + 1], jobs[n + 2], jobs[n + 3], jobs[n + 4], jobs[n + 5] =
            id, f[1], a, f[2], f[3] or ''
          count = count + 1
        end
      end
    end
  end
  if count >= max or popped >= max * 4 then break end
end
for i = 1, #leases, 4000 do
  redis.call('ZADD', leased_key, unpack(leases, i, math.min(i + 3999, #leases)))
end
return {jobs, next_wait()}
)lua";

// ARGV: groups of id, attempt, duration bucket, duration us (bucket '' : the handler's
// duration is unknown). Acknowledges finished jobs: removes them for good.
// A job whose lease was reaped but that has not been delivered again is still
// acknowledged (its work is done); one delivered again since is left to its new owner.
// The durations of the acknowledged jobs go to the histogram (JobDurationHistogram).
// Returns the number acknowledged.
constexpr const char* kAck = R"lua(
local done = 0
local unleased = {}
local buckets, sum_us, timed = {}, 0, 0
for i = 1, #ARGV, 4 do
  local id, att, bucket = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local k = jkey(id)
  local f = redis.call('HMGET', k, 'a', 'st', 'uk', 'ck', 'pr')
  if f[1] == att and (f[2] == 'leased' or f[2] == 'ready') then
    if f[2] == 'leased' then
      unleased[#unleased + 1] = id
      release_slot(f[4])
    else
      unlink_waiting(id, 'ready', f[5], f[4])
    end
    if f[3] then release_unique(id, f[3]) end
    redis.call('DEL', k)
    done = done + 1
    if bucket ~= '' then
      buckets[bucket] = (buckets[bucket] or 0) + 1
      sum_us = sum_us + tonumber(ARGV[i + 3])
      timed = timed + 1
    end
  end
end
for i = 1, #unleased, 4000 do
  redis.call('ZREM', base .. ':leased', unpack(unleased, i, math.min(i + 3999, #unleased)))
end
if done > 0 then redis.call('HINCRBY', base .. ':stats', 'processed', num_str(done)) end
if timed > 0 then
  local h = base .. ':durations'
  for bucket, n in pairs(buckets) do
    redis.call('HINCRBY', h, 'processed:' .. bucket, num_str(n))
  end
  redis.call('HINCRBY', h, 'processed:sum_us', num_str(sum_us))
end
return done
)lua";

// ARGV: id, attempt, error entry (JSON object), retry delay ms (-1: do not retry),
// duration bucket and duration us of the failed attempt (bucket '': unknown).
// Returns 'retry', 'dead' or 'stale' (the lease was lost; someone else owns the job).
constexpr const char* kFail = R"lua(
local id, att, entry, delay = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local k = jkey(id)
local f = redis.call('HMGET', k, 'a', 'st', 'j', 'ck')
if f[1] ~= att or f[2] ~= 'leased' then return 'stale' end
if ARGV[5] and ARGV[5] ~= '' then
  redis.call('HINCRBY', base .. ':durations', 'failed:' .. ARGV[5], '1')
  redis.call('HINCRBY', base .. ':durations', 'failed:sum_us', ARGV[6])
end
redis.call('ZREM', base .. ':leased', id)
release_slot(f[4])
push_error(id, entry)
if delay >= 0 and tonumber(f[1]) < max_attempts(f[3]) then
  redis.call('ZADD', base .. ':delayed', string.format('%.0f', now + delay), id)
  redis.call('HSET', k, 'st', 'delayed')
  redis.call('HINCRBY', base .. ':stats', 'retried', '1')
  wake(1)  -- an idle fetcher recomputes how long to block, now that this job is due sooner
  return 'retry'
end
to_dead(id)
return 'dead'
)lua";

// ARGV: pairs of id, attempt. Gives leased jobs back at once (shutdown): they return to
// the front of their priority, in the order given, and the delivery does not count as an
// attempt.
constexpr const char* kRelease = R"lua(
local n = 0
for i = #ARGV - 1, 1, -2 do
  local id, att = ARGV[i], ARGV[i + 1]
  local k = jkey(id)
  local f = redis.call('HMGET', k, 'a', 'st', 'pr', 'ck')
  if f[1] == att and f[2] == 'leased' then
    redis.call('ZREM', base .. ':leased', id)
    release_slot(f[4])
    redis.call('HINCRBY', k, 'a', '-1')
    to_ready(id, f[3], true)
    n = n + 1
  end
end
if n > 0 then wake(n) end
return n
)lua";

// ARGV: lease ms, then pairs of id, attempt. Extends the leases still held; returns the
// ids whose lease was lost (reaped and possibly delivered again).
constexpr const char* kRenew = R"lua(
local expiry = string.format('%.0f', now + tonumber(ARGV[1]))
local lost = {}
for i = 2, #ARGV, 2 do
  local id, att = ARGV[i], ARGV[i + 1]
  local f = redis.call('HMGET', jkey(id), 'a', 'st')
  if f[1] == att and f[2] == 'leased' then
    redis.call('ZADD', base .. ':leased', 'XX', expiry, id)
  elseif f[1] and not (f[1] == att and (f[2] == 'delayed' or f[2] == 'dead')) then
    -- Delivered again, or reaped back to ready. (A job that is gone was acknowledged,
    -- and one delayed or dead at our attempt was failed by us: neither is lost.)
    lost[#lost + 1] = id
  end
end
return lost
)lua";

// ARGV: id. Cancels a job that has not started. Returns cancelled | running | dead | not_found.
constexpr const char* kCancel = R"lua(
local id = ARGV[1]
local k = jkey(id)
local f = redis.call('HMGET', k, 'st', 'uk', 'ck', 'pr')
if not f[1] then return 'not_found' end
if f[1] == 'leased' then return 'running' end
if f[1] == 'dead' then return 'dead' end
unlink_waiting(id, f[1], f[4], f[3])
release_unique(id, f[2])
redis.call('DEL', k)
redis.call('HINCRBY', base .. ':stats', 'cancelled', '1')
return 'cancelled'
)lua";

// ARGV: limit, then ids (or none: the oldest `limit` dead jobs). Moves dead jobs back to
// ready with a fresh set of attempts (their error history is kept). Returns how many.
constexpr const char* kDeadRetry = R"lua(
local limit = tonumber(ARGV[1])
local ids = {}
if #ARGV > 1 then
  for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
else
  ids = redis.call('ZRANGE', base .. ':dead', 0, limit - 1)
end
local n = 0
for _, id in ipairs(ids) do
  if redis.call('ZREM', base .. ':dead', id) == 1 then
    local k = jkey(id)
    local f = redis.call('HMGET', k, 'pr', 'uk')
    redis.call('HSET', k, 'a', '0')
    redis.call('HDEL', k, 'da')
    if f[2] and f[2] ~= '' and not redis.call('HGET', base .. ':unique', f[2]) then
      redis.call('HSET', base .. ':unique', f[2], id)
    end
    to_ready(id, f[1], false)
    n = n + 1
  end
end
if n > 0 then wake(n) end
return n
)lua";

// ARGV: limit. Deletes up to `limit` dead jobs; returns how many (call until 0).
constexpr const char* kDeadPurge = R"lua(
local ids = redis.call('ZRANGE', base .. ':dead', 0, tonumber(ARGV[1]) - 1)
for _, id in ipairs(ids) do
  redis.call('DEL', jkey(id))
  redis.call('ZREM', base .. ':dead', id)
end
return #ids
)lua";

// Counts for `queue stats`: ready, delayed, running, dead, parked, then the counters.
constexpr const char* kStats = R"lua(
local parked = 0
for _, ck in ipairs(redis.call('SMEMBERS', base .. ':parked_keys')) do
  parked = parked + redis.call('LLEN', base .. ':parked:' .. ck)
end
local ready = 0
for pr = 0, 9 do ready = ready + redis.call('LLEN', rkey(pr)) end
local s = redis.call('HMGET', base .. ':stats', 'enqueued', 'processed', 'failed', 'retried', 'cancelled')
return {ready, redis.call('ZCARD', base .. ':delayed'),
  redis.call('ZCARD', base .. ':leased'), redis.call('ZCARD', base .. ':dead'), parked,
  tonumber(s[1] or 0), tonumber(s[2] or 0), tonumber(s[3] or 0), tonumber(s[4] or 0),
  tonumber(s[5] or 0), redis.call('EXISTS', base .. ':paused')}
)lua";

}  // namespace

const QueueScripts& scripts() {
    static const QueueScripts s{
        LuaScript("enqueue", std::string(kPrelude) + kEnqueue),
        LuaScript("fetch", std::string(kPrelude) + kTakeToken + kFetch),
        LuaScript("ack", std::string(kPrelude) + kAck),
        LuaScript("fail", std::string(kPrelude) + kFail),
        LuaScript("release", std::string(kPrelude) + kRelease),
        LuaScript("renew", std::string(kPrelude) + kRenew),
        LuaScript("cancel", std::string(kPrelude) + kCancel),
        LuaScript("dead_retry", std::string(kPrelude) + kDeadRetry),
        LuaScript("dead_purge", std::string(kPrelude) + kDeadPurge),
        LuaScript("stats", std::string(kPrelude) + kStats),
    };
    return s;
}

}  // namespace artistsaid::queue::detail
