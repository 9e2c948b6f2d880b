#include "engine/http/api_key_store.hpp"

#include <nlohmann/json.hpp>

#include "engine/core/error.hpp"
#include "engine/http/signing.hpp"

namespace artistsaid::http {
namespace {

constexpr std::string_view kKeyPrefix = "aa_";
constexpr std::size_t kShownPrefix = 11;  // "aa_" and 8 hex digits

const char* const kColumns =
    "id, name, prefix, role, "
    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
    "coalesce(to_char(last_used_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''), "
    "coalesce(to_char(revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '')";

ApiKey key_of(const pqxx::row& r) {
    ApiKey k;
    k.id = r[0].as<long long>();
    k.name = r[1].as<std::string>();
    k.prefix = r[2].as<std::string>();
    k.role = parse_role(r[3].as<std::string>());
    k.created_at = r[4].as<std::string>();
    k.last_used_at = r[5].as<std::string>();
    k.revoked_at = r[6].as<std::string>();
    return k;
}

}  // namespace

std::string_view to_string(Role role) noexcept {
    switch (role) {
        case Role::kAdmin: return "admin";
        case Role::kOperator: return "operator";
        case Role::kReadonly: break;
    }
    return "readonly";
}

Role parse_role(const std::string& text) {
    if (text == "admin") return Role::kAdmin;
    if (text == "operator") return Role::kOperator;
    if (text == "readonly") return Role::kReadonly;
    throw InputError("unknown role '" + text + "': expected admin, operator or readonly");
}

CreatedApiKey ApiKeyStore::create(pqxx::connection& conn, Role role, const std::string& name,
                                  const std::string& actor) {
    CreatedApiKey created;
    created.secret = std::string(kKeyPrefix) + to_hex(random_bytes(24));
    const std::string prefix = created.secret.substr(0, kShownPrefix);
    const std::string label = name.empty() ? prefix : name;
    if (label.size() > 200) throw InputError("--name is longer than 200 characters");
    pqxx::work tx(conn);
    auto row = tx.exec_params1(
        std::string("INSERT INTO api_keys (name, prefix, key_hash, role) "
                    "VALUES ($1, $2, decode($3, 'hex'), $4) RETURNING ") +
            kColumns,
        label, prefix, to_hex(sha256(created.secret)), std::string(to_string(role)));
    created.key = key_of(row);
    tx.exec_params0("INSERT INTO audit_log (actor, action, subject, details) "
                    "VALUES ($1, 'apikey.create', $2, $3::jsonb)",
                    actor, "api_key:" + std::to_string(created.key.id),
                    nlohmann::json{{"role", to_string(role)}, {"name", label}}.dump());
    tx.commit();
    return created;
}

std::vector<ApiKey> ApiKeyStore::list(pqxx::connection& conn) {
    pqxx::read_transaction tx(conn);
    std::vector<ApiKey> out;
    for (const auto& r : tx.exec(std::string("SELECT ") + kColumns + " FROM api_keys ORDER BY id"))
        out.push_back(key_of(r));
    return out;
}

bool ApiKeyStore::revoke(pqxx::connection& conn, long long id, const std::string& actor) {
    pqxx::work tx(conn);
    auto r = tx.exec_params("UPDATE api_keys SET revoked_at = now() "
                            "WHERE id = $1 AND revoked_at IS NULL",
                            id);
    if (r.affected_rows() == 0) return false;
    tx.exec_params0("INSERT INTO audit_log (actor, action, subject) "
                    "VALUES ($1, 'apikey.revoke', $2)",
                    actor, "api_key:" + std::to_string(id));
    tx.commit();
    return true;
}

std::optional<ApiKey> ApiKeyStore::authenticate(pqxx::connection& conn, const std::string& secret) {
    if (secret.size() < kShownPrefix || secret.size() > 200 || secret.rfind(kKeyPrefix, 0) != 0)
        return std::nullopt;
    pqxx::work tx(conn);
    // Found by the hash of the whole key (unique index): the lookup reveals nothing about
    // how much of a wrong key was right.
    auto r = tx.exec_params(std::string("SELECT ") + kColumns +
                                " FROM api_keys WHERE key_hash = decode($1, 'hex') "
                                "AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())",
                            to_hex(sha256(secret)));
    if (r.empty()) return std::nullopt;
    auto key = key_of(r[0]);
    tx.exec_params0("UPDATE api_keys SET last_used_at = now() WHERE id = $1 AND "
                    "(last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
                    key.id);
    tx.commit();
    return key;
}

}  // namespace artistsaid::http
