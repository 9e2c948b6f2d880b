#include "plugins/common/effect_guard.hpp"

#include <pqxx/pqxx>

#include "engine/core/error.hpp"
#include "engine/http/curl_error.hpp"
#include "engine/store/database.hpp"

namespace artistsaid::plugins {
namespace {

pqxx::connection& connection_for(const std::string& url) {
    thread_local std::unique_ptr<pqxx::connection> conn;
    thread_local std::string conn_url;
    if (!conn || !conn->is_open() || conn_url != url) {
        conn = store::connect(url);
        conn_url = url;
    }
    return *conn;
}

}  // namespace

EffectGuard::EffectGuard(std::string database_url) : database_url_(std::move(database_url)) {}

EffectOutcome EffectGuard::run_once(const std::string& key, const std::string& kind,
                                    const std::string& run_id,
                                    std::chrono::system_clock::time_point deadline,
                                    const std::function<nlohmann::json()>& effect,
                                    const std::function<void(pqxx::work&, const nlohmann::json&)>& record) const {
    using namespace std::chrono;
    auto left = duration_cast<milliseconds>(deadline - system_clock::now());
    if (left <= milliseconds(0)) throw WorkError(kind + ": the step's deadline has passed");
    std::unique_ptr<pqxx::work> tx;
    try {
        tx = std::make_unique<pqxx::work>(connection_for(database_url_));
        // Waiting for a concurrent attempt's row lock is bounded by the step's deadline.
        tx->exec0("SET LOCAL lock_timeout = " + std::to_string(std::max<long long>(left.count(), 1)));
        tx->exec_params0(
            "INSERT INTO step_effects (idempotency_key, kind, status, run_id) "
            "VALUES ($1, $2, 'started', (SELECT id FROM workflow_runs WHERE id::text = $3)) "
            "ON CONFLICT (idempotency_key) DO NOTHING",
            key, kind, run_id);
        auto row = tx->exec_params1(
            "SELECT status, coalesce(result::text, 'null') FROM step_effects "
            "WHERE idempotency_key = $1 FOR UPDATE",
            key);
        std::string status = row[0].as<std::string>();
        auto result = nlohmann::json::parse(row[1].as<std::string>());
        if (status == "succeeded") {
            tx->commit();
            return {result, true};
        }
        if (status == "started" && result.is_object() && result.value("outcome", "") == "unknown") {
            tx->commit();
            throw UnknownOutcomeError(
                kind + ": an earlier attempt's outcome is unknown (" + result.value("error", "") +
                "); not sending again — check the provider, then resolve step_effects key " + key);
        }
    } catch (const UnknownOutcomeError&) {
        throw;
    } catch (...) {
        store::throw_from_pqxx(kind + ": recording the effect");
    }

    nlohmann::json result;
    try {
        result = effect();
    } catch (const http::TransportError& e) {
        if (e.outcome_unknown()) {
            try {
                tx->exec_params0(
                    "UPDATE step_effects SET result = $2::jsonb WHERE idempotency_key = $1", key,
                    nlohmann::json{{"outcome", "unknown"}, {"error", e.what()}}.dump());
                tx->commit();
            } catch (...) {
                store::throw_from_pqxx(kind + ": recording an unknown outcome");
            }
        }
        throw;
    }
    try {
        tx->exec_params0(
            "UPDATE step_effects SET status = 'succeeded', result = $2::jsonb, completed_at = now() "
            "WHERE idempotency_key = $1",
            key, result.dump());
        if (record) record(*tx, result);
        tx->commit();
    } catch (...) {
        store::throw_from_pqxx(kind + ": recording the effect's result");
    }
    return {result, false};
}

}  // namespace artistsaid::plugins
