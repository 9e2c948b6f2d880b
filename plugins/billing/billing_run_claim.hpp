// BillingRunClaim: the first statement of every billing step's transaction. It inserts the
// billing_runs row keyed by the step's idempotency key; a second execution with the same
// key conflicts and gets the outputs the first one stored instead (with "replayed": true).
// The unique constraint decides, so a retry or a redelivered job never acts twice.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/pqxx>
#include <string>

namespace artistsaid::billing {

class BillingRunClaim {
public:
    /// Claims `key` for a step of `kind` (a billing_runs.kind). Returns the new run id, or
    /// nullopt with `replay` set to the stored outputs when the key was used before.
    /// InputError if the key belongs to another kind of step.
    static std::optional<long long> claim(pqxx::work& tx, const std::string& kind,
                                          const std::string& key, const std::string& as_of,
                                          const nlohmann::json& parameters, nlohmann::json& replay);
    /// Stores the outputs a replay will return.
    static void finish(pqxx::work& tx, long long run, const nlohmann::json& outputs);
};

}  // namespace artistsaid::billing
