// API keys (table api_keys): created with a role, shown once, stored only as the SHA-256
// of the whole key; `prefix` (the first 11 characters) lets people tell keys apart.
// Roles are ordered: readonly < operator < admin.
// Thread-safety: stateless; the connection belongs to the caller's thread.
#pragma once

#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace artistsaid::http {

enum class Role { kReadonly = 0, kOperator = 1, kAdmin = 2 };
std::string_view to_string(Role role) noexcept;
/// InputError for anything but admin, operator or readonly.
Role parse_role(const std::string& text);

struct ApiKey {
    long long id = 0;
    std::string name;
    std::string prefix;
    Role role = Role::kReadonly;
    std::string created_at, last_used_at, revoked_at;  // ISO 8601 UTC, empty if unset
};

struct CreatedApiKey {
    ApiKey key;
    std::string secret;  // the whole key: shown once, never stored
};

class ApiKeyStore {
public:
    static CreatedApiKey create(pqxx::connection& conn, Role role, const std::string& name,
                                const std::string& actor);
    static std::vector<ApiKey> list(pqxx::connection& conn);
    /// False if there is no such key or it was already revoked.
    static bool revoke(pqxx::connection& conn, long long id, const std::string& actor);
    /// The live (not revoked, not expired) key with this secret, if any.
    static std::optional<ApiKey> authenticate(pqxx::connection& conn, const std::string& secret);
};

}  // namespace artistsaid::http
