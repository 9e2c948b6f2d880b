// Makes a side effect with no upstream idempotency (an SMTP send, an SMS) happen at most
// once per idempotency key, using the step_effects table.
//
// How: one transaction inserts the key's row (or waits on a concurrent attempt's row, then
// locks it), runs the effect while holding the row lock, and commits the result. So:
//   - a key whose effect succeeded returns the recorded result without running it again;
//   - two attempts racing (a lease expired while the first still ran) are serialised;
//   - an effect that fails for sure (not sent, refused) rolls back: the next attempt runs it;
//   - an effect whose outcome is unknown (sent, no answer) is committed as `started` with
//     {"outcome": "unknown"}: later attempts fail without sending (at most once), and an
//     operator decides.
// Remaining window: the process dies after the provider accepted but before the commit —
// the next attempt sends again. It is as short as one commit.
// Thread-safety: one PostgreSQL connection per thread.
#pragma once

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <string>

namespace artistsaid::plugins {

struct EffectOutcome {
    nlohmann::json result;
    bool replayed = false;  // recorded by an earlier attempt; the effect did not run now
};

class EffectGuard {
public:
    explicit EffectGuard(std::string database_url);

    /// Runs `effect` once per `key`; `record` (optional) writes its result to the caller's own
    /// tables in the same transaction that records the effect. Throws what `effect` throws (after rolling back, or
    /// after recording an unknown outcome for a TransportError that may have been sent);
    /// throws WorkError (not retryable) for a key whose earlier outcome is unknown.
    EffectOutcome run_once(const std::string& key, const std::string& kind,
                           const std::string& run_id,
                           std::chrono::system_clock::time_point deadline,
                           const std::function<nlohmann::json()>& effect,
                           const std::function<void(pqxx::work&, const nlohmann::json&)>& record =
                               {}) const;

private:
    std::string database_url_;
};

/// Thrown by EffectGuard when an earlier attempt's outcome is unknown: never retried.
class UnknownOutcomeError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace artistsaid::plugins
