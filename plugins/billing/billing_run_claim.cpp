#include "plugins/billing/billing_run_claim.hpp"

#include "engine/core/error.hpp"

namespace artistsaid::billing {

std::optional<long long> BillingRunClaim::claim(pqxx::work& tx, const std::string& kind,
                                                const std::string& key, const std::string& as_of,
                                                const nlohmann::json& parameters,
                                                nlohmann::json& replay) {
    if (key.empty()) throw InputError("a billing step needs an idempotency key");
    auto claimed = tx.exec_params(
        "INSERT INTO billing_runs (kind, idempotency_key, as_of, parameters) "
        "VALUES ($1, $2, $3::date, $4::jsonb) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
        kind, key, as_of, parameters.dump());
    if (!claimed.empty()) return claimed[0][0].as<long long>();
    auto row = tx.exec_params1("SELECT kind, outputs::text FROM billing_runs WHERE idempotency_key = $1",
                               key);
    if (row[0].as<std::string>() != kind || row[1].is_null())
        throw InputError("idempotency key '" + key + "' was used by another billing step (" +
                         row[0].as<std::string>() + ")");
    replay = nlohmann::json::parse(row[1].as<std::string>());
    replay["replayed"] = true;
    return std::nullopt;
}

void BillingRunClaim::finish(pqxx::work& tx, long long run, const nlohmann::json& outputs) {
    tx.exec_params0("UPDATE billing_runs SET outputs = $2::jsonb WHERE id = $1", run, outputs.dump());
}

}  // namespace artistsaid::billing
